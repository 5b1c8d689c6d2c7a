use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "impact_levels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub plan_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub system_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub after_minutes: i64,
    pub level: String,
    #[sea_orm(column_type = "Text")]
    pub citizens: String,
    #[sea_orm(column_type = "Text")]
    pub staff: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
