use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(column_type = "Text")]
    pub data: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// The signed-in account; `None` before sign-in.
    pub account_id: Option<i64>,
    /// Unix seconds: when the account signed in.
    pub opened_at: Option<i64>,
    /// Unix seconds, updated at most once a minute.
    pub last_used_at: Option<i64>,
    /// The address the sign-in came from.
    pub client_addr: Option<String>,
    /// The browser and system the sign-in came from, in a few words.
    pub user_agent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
