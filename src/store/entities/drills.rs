use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "drills")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: String,
    pub scenario_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub definition: String,
    pub facilitator: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub participants: String,
    #[sea_orm(column_type = "Text")]
    pub location: String,
    #[sea_orm(column_type = "Text")]
    pub schedule: String,
    pub time_zone: String,
    pub invite_days_before: i32,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub cancelled: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
