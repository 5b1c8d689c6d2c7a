use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "drill_inject_plays")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub occurrence_id: i64,
    /// The inject's index in the drill's scenario.
    #[sea_orm(primary_key, auto_increment = false)]
    pub inject: i32,
    pub played_at: DateTimeUtc,
    pub played_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
