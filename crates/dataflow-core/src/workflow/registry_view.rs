//! A [`Catalog`] snapshot of a DataFlow instance's registered node types.

use super::catalog::Catalog;

impl Catalog {
    /// The node types registered on `db` now (later registrations are not seen).
    pub fn from_db(db: &crate::DataFlow) -> Catalog {
        let mut c = Catalog::default().with_protection(db.config().protection.clone());
        for model in db.models() {
            if let Ok(schema) = db.schema(&model) {
                c.add_model(schema);
            }
        }
        c
    }
}
