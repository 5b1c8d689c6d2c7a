use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_mappings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub group_name: String,
    /// A plan's id, or `*` for every plan.
    pub plan_id: String,
    pub role: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
