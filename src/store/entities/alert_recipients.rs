use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_recipients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: Option<i64>,
    pub occurrence_id: Option<i64>,
    pub round: i64,
    pub person_id: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub channels: String,
    pub escalated_from: Option<String>,
    pub created_at: DateTimeUtc,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub answer: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub escalated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
