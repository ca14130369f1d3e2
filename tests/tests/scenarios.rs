//! The three-backend scenario suite: every scenario body runs on SQLite, PostgreSQL and
//! MariaDB/MySQL against its own fresh database (`dataflow_tests::TestDb`).

#[path = "scenarios/bulk.rs"]
mod bulk;
#[path = "scenarios/crud.rs"]
mod crud;
#[path = "scenarios/filters.rs"]
mod filters;
#[path = "scenarios/list.rs"]
mod list;
#[path = "scenarios/models.rs"]
mod models;
#[path = "scenarios/tx.rs"]
mod tx;
#[path = "scenarios/typed.rs"]
mod typed;
#[path = "scenarios/upsert.rs"]
mod upsert;

use dataflow_core::DataFlow;
use dataflow_tests::TestDb;

/// Wraps `module::scenario(&DataFlow)` into `scenario(&TestDb)` and instantiates it per backend.
macro_rules! suite {
    ($($m:ident :: $name:ident),* $(,)?) => {
        $(
            async fn $name(t: &TestDb) {
                let db = DataFlow::connect(t.url()).await.expect("connect");
                $m::$name(&db).await;
                db.close().await;
            }
        )*
        dataflow_tests::backend_tests!($($name),*);
    };
}

suite!(
    filters::bad_regex_is_df105_before_sql,
    filters::bare_any_is_df105_before_sql,
    filters::oversized_filters_are_df105_not_a_crash,
    filters::case_insensitive_matching_is_unicode_simple_folding,
    filters::numbers_arrays_and_path_membership,
    filters::mysql_server_detected_at_connect,
    crud::create_returns_stored_record,
    crud::create_generates_integer_ids,
    crud::create_generates_uuid_v7,
    crud::create_requires_string_id,
    crud::create_unknown_field_suggests,
    crud::create_wrong_type_writes_nothing,
    crud::create_strips_managed_fields,
    crud::read_found_and_not_found,
    crud::update_bumps_updated_at,
    crud::update_flat_fields_is_shape_error,
    crud::update_without_match,
    crud::update_by_unique_field,
    crud::update_needs_identifying_filter,
    crud::delete_hard_model,
    crud::soft_delete_lifecycle,
    crud::unicode_round_trip,
    crud::quotes_and_backslashes_verbatim,
    crud::decimal_date_json_round_trip,
    crud::unique_violation_is_df501,
    crud::append_only_refuses_before_sql,
    crud::registry_duplicates_and_isolation,
    crud::unknown_model_suggests,
    crud::node_types_registered,
    crud::close_is_idempotent,
    crud::no_ddl_without_auto_migrate,
    crud::find_one_needs_filter,
    list::list_default_order_and_shape,
    list::list_order_limit_offset,
    list::list_projection,
    list::keyset_pagination,
    list::in_nin_with_nulls,
    list::ne_is_null_inclusive,
    list::case_sensitive_equality,
    list::trailing_space_equality,
    list::datetime_ranges_with_offsets,
    list::json_array_operators,
    list::like_and_literal_string_operators,
    list::regex_filter,
    list::logical_operators,
    list::count_with_filters,
    list::invalid_filters_are_errors,
    list::exists_and_null_operators,
    list::json_dotted_paths,
    bulk::bulk_create_with_generated_ids,
    bulk::bulk_create_beyond_one_chunk,
    bulk::bulk_create_failure_leaves_zero_rows,
    bulk::bulk_create_differing_field_sets,
    bulk::bulk_update_by_filter,
    bulk::bulk_update_by_records,
    bulk::bulk_delete_variants,
    bulk::bulk_delete_soft,
    bulk::bulk_upsert_counts,
    bulk::bulk_upsert_skip_and_update_fields,
    bulk::bulk_upsert_duplicates_last_wins,
    bulk::bulk_upsert_non_unique_target,
    bulk::bulk_create_from_iterator,
    bulk::list_streams,
    upsert::upsert_created_then_updated,
    upsert::upsert_without_update_uses_create,
    upsert::upsert_non_unique_target_writes_nothing,
    upsert::upsert_composite_unique_key,
    upsert::upsert_typed,
    tx::transaction_commits,
    tx::transaction_rolls_back_on_err,
    tx::nested_transaction_is_savepoint,
    tx::failed_bulk_inside_transaction,
    typed::typed_crud,
    typed::typed_list_count_find,
    typed::typed_bulk_ops,
    typed::typed_validation_before_sql,
);
