use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub at: DateTimeUtc,
    pub author: String,
    pub kind: String,
    pub system_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    /// When the server recorded what happened at `at` on a phone that was offline.
    pub recorded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
