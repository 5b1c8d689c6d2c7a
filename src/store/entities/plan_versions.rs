use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub plan_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: i32,
    pub plan_revision: i64,
    /// The whole plan as JSON.
    #[sea_orm(column_type = "Text")]
    pub snapshot: String,
    pub approved_by: String,
    pub approved_at: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub comment: String,
    /// The systems this version changed significantly (horizons, dependencies, recovery
    /// steps), as JSON `{"system": ["rto", …]}`: they should be exercised again.
    #[sea_orm(column_type = "Text", nullable)]
    pub exercise_after: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
