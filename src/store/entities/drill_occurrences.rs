use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "drill_occurrences")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub drill_id: i64,
    pub starts_at: DateTimeUtc,
    #[sea_orm(unique)]
    pub uid: String,
    pub sequence: i32,
    pub state: String,
    pub invited_at: Option<DateTimeUtc>,
    pub reminded_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_by: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub went_well: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub went_badly: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub lessons: Option<String>,
    pub evaluated_at: Option<DateTimeUtc>,
    pub evaluation_reminded_at: Option<DateTimeUtc>,
    /// When the facilitator started the drill (the injects count from it; else `starts_at`).
    pub started_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
