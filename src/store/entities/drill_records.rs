use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "drill_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub occurrence_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub system_id: String,
    pub found: Option<bool>,
    pub followed: Option<bool>,
    pub recovery_minutes: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub notes: String,
    pub updated_by: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
