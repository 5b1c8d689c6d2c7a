use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispensations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: String,
    #[sea_orm(column_type = "Text")]
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub justification: String,
    #[sea_orm(column_type = "Text")]
    pub compensating: String,
    #[sea_orm(column_type = "Text")]
    pub consequence: String,
    #[sea_orm(column_type = "Text")]
    pub solution: String,
    pub solution_on: Option<Date>,
    pub requested_until: Date,
    pub requested_by: String,
    pub requested_at: DateTimeUtc,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawn_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
