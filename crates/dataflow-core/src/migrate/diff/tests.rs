//! Pure diff tests: a live table described by hand against a model, per dialect.

use dataflow_sql::{Dialect, FieldDef, FieldType, ModelSchema};

use super::{Probe, diff};
use crate::migrate::introspect::{LiveColumn, LiveIndex, LiveTable};
use crate::migrate::plan::{Risk, StepKind};

fn col(name: &str, ty: &str, nullable: bool) -> LiveColumn {
    LiveColumn { name: name.into(), data_type: ty.into(), nullable, default: None, primary_key: name == "id" }
}

fn model(fields: Vec<FieldDef>) -> ModelSchema {
    let mut s = ModelSchema::new("Item", fields);
    s.options.timestamps = false;
    s
}

fn live(columns: Vec<LiveColumn>, indexes: Vec<LiveIndex>) -> LiveTable {
    LiveTable { name: "items".into(), columns, indexes }
}

#[test]
fn missing_table_is_one_low_create_step() {
    let s = model(vec![FieldDef::new("id", FieldType::I64)]);
    let steps = diff(&s, Dialect::Postgres, None).unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!((steps[0].0.kind.clone(), steps[0].0.risk), (StepKind::CreateTable, Risk::Low));
    assert!(steps[0].0.sql[0].starts_with("CREATE TABLE IF NOT EXISTS \"items\""));
}

#[test]
fn matching_table_has_no_steps_on_every_dialect() {
    let s = model(vec![FieldDef::new("id", FieldType::I64), FieldDef::new("n", FieldType::I32).nullable()]);
    for (d, id, n) in [
        (Dialect::Postgres, "bigint", "integer"),
        (Dialect::MySql, "bigint(20)", "int(11)"),
        (Dialect::Sqlite, "integer", "integer"),
    ] {
        let l = live(vec![col("id", id, false), col("n", n, true)], vec![]);
        assert!(diff(&s, d, Some(&l)).unwrap().is_empty(), "{d}");
    }
}

#[test]
fn risks_follow_the_change() {
    let s = model(vec![
        FieldDef::new("id", FieldType::I64),
        FieldDef::new("a", FieldType::String).nullable(),
        FieldDef::new("b", FieldType::I32).with_default(serde_json::json!(1)),
        FieldDef::new("c", FieldType::String),
        FieldDef::new("t", FieldType::I64),
        FieldDef::new("nn", FieldType::String),
        FieldDef::new("e", FieldType::String).unique(),
    ]);
    let l = live(
        vec![
            col("id", "bigint", false),
            col("t", "text", false),
            col("nn", "text", true),
            col("e", "text", false),
            col("gone", "text", true),
        ],
        vec![LiveIndex { name: "old_idx".into(), columns: vec!["t".into()], unique: false, primary: false }],
    );
    let steps = diff(&s, Dialect::Postgres, Some(&l)).unwrap();
    let find = |f: &dyn Fn(&StepKind) -> bool| steps.iter().find(|(s, _)| f(&s.kind)).unwrap().clone();
    let (a, _) = find(&|k| matches!(k, StepKind::AddColumn { column } if column == "a"));
    assert_eq!(a.risk, Risk::Low);
    let (b, _) = find(&|k| matches!(k, StepKind::AddColumn { column } if column == "b"));
    assert_eq!(b.risk, Risk::Low);
    let (c, p) = find(&|k| matches!(k, StepKind::AddRequiredColumn { .. }));
    assert_eq!((c.risk, p), (Risk::Medium, Some(Probe::Rows)));
    assert!(c.sql[0].contains("NOT NULL DEFAULT ''"), "{:?}", c.sql);
    let (t, p) = find(&|k| matches!(k, StepKind::ChangeType { .. }));
    assert_eq!((t.risk, p), (Risk::High, Some(Probe::NonNull("t".into()))));
    assert_eq!(t.sql, ["ALTER TABLE \"items\" ALTER COLUMN \"t\" TYPE BIGINT USING \"t\"::BIGINT"]);
    let (nn, p) = find(&|k| matches!(k, StepKind::SetNotNull { .. }));
    assert_eq!((nn.risk, p), (Risk::Medium, Some(Probe::Nulls("nn".into()))));
    let (g, _) = find(&|k| matches!(k, StepKind::DropColumn { .. }));
    assert!(g.risk == Risk::High && !g.required, "a nullable extra column does not block");
    let (u, p) = find(&|k| matches!(k, StepKind::AddIndex { unique: true, .. }));
    assert_eq!((u.risk, p), (Risk::Medium, Some(Probe::Duplicates(vec!["e".into()]))));
    let (x, _) = find(&|k| matches!(k, StepKind::DropIndex { .. }));
    assert!(x.risk == Risk::Medium && !x.required);
    // Column steps come before index steps.
    let first_index = steps.iter().position(|(s, _)| matches!(s.kind, StepKind::AddIndex { .. })).unwrap();
    assert!(steps[..first_index].iter().all(|(s, _)| !matches!(s.kind, StepKind::DropIndex { .. })));
}

#[test]
fn sqlite_folds_in_place_impossible_changes_into_one_rebuild() {
    let s = model(vec![
        FieldDef::new("id", FieldType::I64),
        FieldDef::new("n", FieldType::I32),
        FieldDef::new("x", FieldType::String).nullable(),
    ]);
    let l = live(vec![col("id", "integer", false), col("n", "integer", true), col("old", "text", false)], vec![]);
    let steps = diff(&s, Dialect::Sqlite, Some(&l)).unwrap();
    let kinds: Vec<&StepKind> = steps.iter().map(|(s, _)| &s.kind).collect();
    assert!(matches!(kinds[0], StepKind::AddColumn { column } if column == "x"), "{kinds:?}");
    let StepKind::RebuildTable { changes } = kinds[1] else { panic!("{kinds:?}") };
    assert_eq!(changes.len(), 2, "{changes:?}");
    let rebuild = &steps[1].0;
    assert_eq!(rebuild.risk, Risk::High);
    assert!(rebuild.required, "`old` is NOT NULL without a default: inserts would fail");
    assert_eq!(rebuild.sql[0], "DROP TABLE IF EXISTS \"_df_rebuild_items\"");
    assert!(
        rebuild.sql[2]
            .starts_with("INSERT INTO \"_df_rebuild_items\" (\"id\", \"n\") SELECT \"id\", \"n\" FROM \"items\"")
    );
    assert_eq!(rebuild.sql[4], "ALTER TABLE \"_df_rebuild_items\" RENAME TO \"items\"");
}

#[test]
fn renames_need_renamed_from() {
    let plain = model(vec![FieldDef::new("id", FieldType::I64), FieldDef::new("name", FieldType::String)]);
    let l = live(vec![col("id", "bigint", false), col("title", "text", false)], vec![]);
    let steps = diff(&plain, Dialect::Postgres, Some(&l)).unwrap();
    assert!(steps.iter().all(|(s, _)| !matches!(s.kind, StepKind::RenameColumn { .. })));
    let renamed = model(vec![
        FieldDef::new("id", FieldType::I64),
        FieldDef::new("name", FieldType::String).renamed_from("title"),
    ]);
    let steps = diff(&renamed, Dialect::MySql, Some(&l)).unwrap();
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0].0.risk, Risk::Medium);
    assert_eq!(steps[0].0.sql, ["ALTER TABLE `items` RENAME COLUMN `title` TO `name`"]);
}

#[test]
fn mysql_text_to_varchar_for_a_new_index_is_probed() {
    let s = model(vec![FieldDef::new("id", FieldType::I64), FieldDef::new("name", FieldType::String).indexed()]);
    let l = live(vec![col("id", "bigint(20)", false), col("name", "text", false)], vec![]);
    let steps = diff(&s, Dialect::MySql, Some(&l)).unwrap();
    assert!(matches!(steps[0].0.kind, StepKind::ChangeType { .. }));
    assert_eq!(steps[0].1, Some(Probe::LongerThan("name".into(), 255)));
    assert!(matches!(steps[1].0.kind, StepKind::AddIndex { unique: false, .. }));
}

#[test]
fn tenant_index_covers_id_and_replaces_the_single_column_one() {
    let mut s = model(vec![FieldDef::new("id", FieldType::I64), FieldDef::new("n", FieldType::I32)]);
    s.options.multi_tenant = true;
    // MySQL keys these tables by `(tenant_id, id)` instead: see the next test.
    for (d, id, n, t) in [
        (Dialect::Postgres, "bigint", "integer", "character varying(255)"),
        (Dialect::Sqlite, "integer", "integer", "varchar(255)"),
    ] {
        let old = LiveIndex {
            name: "idx_items_tenant_id".into(),
            columns: vec!["tenant_id".into()],
            unique: false,
            primary: false,
        };
        let l = live(vec![col("id", id, false), col("n", n, false), col("tenant_id", t, false)], vec![old]);
        let steps = diff(&s, d, Some(&l)).unwrap();
        assert_eq!(steps.len(), 2, "{d}: {steps:?}");
        let (add, drop) = (&steps[0].0, &steps[1].0);
        assert_eq!(add.kind, StepKind::AddIndex { name: "idx_items_tenant_id_id".into(), unique: false }, "{d}");
        assert_eq!((add.risk, add.required), (Risk::Low, true), "{d}");
        assert!(add.sql[0].replace('`', "\"").ends_with(r#" ("tenant_id", "id")"#), "{d}: {}", add.sql[0]);
        assert_eq!(drop.kind, StepKind::DropIndex { name: "idx_items_tenant_id".into() }, "{d}");
        assert!(!drop.required && drop.description.contains("replaced by the managed `(tenant_id, id)` index"), "{d}");
        // Once both are in place nothing is left to do.
        let new = LiveIndex {
            name: "idx_items_tenant_id_id".into(),
            columns: vec!["tenant_id".into(), "id".into()],
            unique: false,
            primary: false,
        };
        let l = live(vec![col("id", id, false), col("n", n, false), col("tenant_id", t, false)], vec![new]);
        assert!(diff(&s, d, Some(&l)).unwrap().is_empty(), "{d}");
    }
}

#[test]
fn mysql_tenant_tables_with_generated_ids_are_keyed_by_tenant() {
    let mut s = model(vec![FieldDef::new("id", FieldType::I64), FieldDef::new("n", FieldType::I32)]);
    s.options.multi_tenant = true;
    let cols = |pk_tenant: bool| {
        let mut t = col("tenant_id", "varchar(255)", false);
        t.primary_key = pk_tenant;
        vec![col("id", "bigint(20)", false), col("n", "int(11)", false), t]
    };
    let ix = |name: &str, columns: &[&str], unique: bool, primary: bool| LiveIndex {
        name: name.into(),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        unique,
        primary,
    };
    // An earlier version's table: key `id`, index `(tenant_id)` or `(tenant_id, id)`. The key
    // stands for `UNIQUE (id)` and the old index keeps serving; only the optional move is offered.
    for old in [
        ix("idx_items_tenant_id", &["tenant_id"], false, false),
        ix("idx_items_tenant_id_id", &["tenant_id", "id"], false, false),
    ] {
        let l = live(cols(false), vec![ix("PRIMARY", &["id"], true, true), old]);
        let steps = diff(&s, Dialect::MySql, Some(&l)).unwrap();
        assert_eq!(steps.len(), 1, "{steps:?}");
        let mv = &steps[0].0;
        assert_eq!((mv.kind.clone(), mv.risk, mv.required), (StepKind::TenantPrimaryKey, Risk::Medium, false));
        assert_eq!(
            mv.sql,
            [
                "ALTER TABLE `items` ADD UNIQUE KEY `uq_items_id` (`id`), DROP PRIMARY KEY, ADD PRIMARY KEY (`tenant_id`, `id`)"
            ]
        );
    }
    // Keyed by `(tenant_id, id)` with `UNIQUE (id)`: the old index is an optional drop.
    let keyed = |extra: Vec<LiveIndex>| {
        let mut ixs = vec![ix("PRIMARY", &["tenant_id", "id"], true, true), ix("uq_items_id", &["id"], true, false)];
        ixs.extend(extra);
        live(cols(true), ixs)
    };
    let steps =
        diff(&s, Dialect::MySql, Some(&keyed(vec![ix("idx_items_tenant_id_id", &["tenant_id", "id"], false, false)])))
            .unwrap();
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0].0.kind, StepKind::DropIndex { name: "idx_items_tenant_id_id".into() });
    assert!(!steps[0].0.required && steps[0].0.description.contains("replaced by the primary key `(tenant_id, id)`"));
    // A table made by this version: nothing to do.
    assert!(diff(&s, Dialect::MySql, Some(&keyed(vec![]))).unwrap().is_empty());
    // A new table: key `(tenant_id, id)`, `UNIQUE (id)` for AUTO_INCREMENT, no secondary tenant index.
    let create = diff(&s, Dialect::MySql, None).unwrap();
    let sql = create[0].0.sql.join(";");
    assert!(sql.contains("`id` BIGINT NOT NULL AUTO_INCREMENT,"), "{sql}");
    assert!(sql.contains("PRIMARY KEY (`tenant_id`, `id`), UNIQUE KEY `uq_items_id` (`id`)"), "{sql}");
    assert!(!sql.contains("idx_items_tenant_id"), "{sql}");
}
