use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "action_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: String,
    pub occurrence_id: Option<i64>,
    pub system_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    pub owner: String,
    pub due: Date,
    pub status: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    /// When the owner was last reminded that the item is overdue.
    pub reminded_at: Option<DateTimeUtc>,
    /// The incident it came from (else the drill occurrence, if any).
    pub incident_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
