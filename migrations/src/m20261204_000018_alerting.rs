//! Alerting beyond mail: every outbox message has a channel (mail, SMS, Teams, webhook), each
//! person alerted about an incident has an acknowledgement link of their own, webhook endpoints
//! are kept per plan, and a plan says how long to wait for an acknowledgement before the
//! deputy is alerted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    OccurrenceId,
    ToAddress,
    /// What the message is about (`occurrence:12`, `incident:5`, `drill:3`, `plan:x`):
    /// messages to one recipient about one topic are handed over in the order queued.
    Topic,
    Channel,
    AlertRecipientId,
    EndpointId,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    AlertEscalationMinutes,
    CallTreeTargetMinutes,
}

#[derive(DeriveIden)]
enum Incidents {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AlertRecipients {
    Table,
    Id,
    /// The incident it alerts about, or, for a test of the call tree, the drill occurrence.
    IncidentId,
    OccurrenceId,
    /// The alert ("Varsl") it belongs to: the time it was sent, in milliseconds.
    Round,
    PersonId,
    /// SHA-256 of the acknowledgement link's secret part.
    TokenHash,
    /// `sms,mail`, `mail`, … as sent.
    Channels,
    /// Who was not acknowledging when this person was alerted in their place.
    EscalatedFrom,
    CreatedAt,
    AcknowledgedAt,
    /// `coming` or `cannot`.
    Answer,
    Note,
    /// When this person's deputy was alerted because they had not acknowledged.
    EscalatedAt,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    PlanId,
    /// `webhook` (Standard Webhooks) or `teams` (a Teams workflow taking Adaptive Cards).
    Kind,
    Url,
    Secret,
    Description,
    CreatedAt,
    CreatedBy,
}

const OLD_ORDER_INDEX: &str = "idx_outbox_occurrence_recipient";
const ORDER_INDEX: &str = "idx_outbox_topic_recipient";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(string(Outbox::Channel).default("mail"))
                    .to_owned(),
            )
            .await?;
        for column in [Outbox::AlertRecipientId, Outbox::EndpointId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .add_column(big_integer_null(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(string_null(Outbox::Topic))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE outbox SET topic = 'occurrence:' || occurrence_id \
                 WHERE occurrence_id IS NOT NULL",
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(OLD_ORDER_INDEX)
                    .table(Outbox::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(ORDER_INDEX)
                    .table(Outbox::Table)
                    .col(Outbox::Topic)
                    .col(Outbox::ToAddress)
                    .col(Outbox::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .add_column(integer(Plans::AlertEscalationMinutes).default(10))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .add_column(integer(Plans::CallTreeTargetMinutes).default(15))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlertRecipients::Table)
                    .col(big_pk_auto(AlertRecipients::Id))
                    .col(big_integer_null(AlertRecipients::IncidentId))
                    .col(big_integer_null(AlertRecipients::OccurrenceId))
                    .col(big_integer(AlertRecipients::Round))
                    .col(string(AlertRecipients::PersonId))
                    .col(string(AlertRecipients::TokenHash).unique_key())
                    .col(string(AlertRecipients::Channels))
                    .col(string_null(AlertRecipients::EscalatedFrom))
                    .col(timestamp_with_time_zone(AlertRecipients::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        AlertRecipients::AcknowledgedAt,
                    ))
                    .col(string_null(AlertRecipients::Answer))
                    .col(text(AlertRecipients::Note).default(""))
                    .col(timestamp_with_time_zone_null(AlertRecipients::EscalatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AlertRecipients::Table, AlertRecipients::IncidentId)
                            .to(Incidents::Table, Incidents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_alert_recipients_incident", AlertRecipients::IncidentId),
            (
                "idx_alert_recipients_occurrence",
                AlertRecipients::OccurrenceId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AlertRecipients::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(big_pk_auto(WebhookEndpoints::Id))
                    .col(string(WebhookEndpoints::PlanId))
                    .col(string(WebhookEndpoints::Kind))
                    .col(text(WebhookEndpoints::Url))
                    .col(text(WebhookEndpoints::Secret))
                    .col(text(WebhookEndpoints::Description))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(string(WebhookEndpoints::CreatedBy))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AlertRecipients::Table).to_owned())
            .await?;
        for column in [Plans::AlertEscalationMinutes, Plans::CallTreeTargetMinutes] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Plans::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name(ORDER_INDEX)
                    .table(Outbox::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(OLD_ORDER_INDEX)
                    .table(Outbox::Table)
                    .col(Outbox::OccurrenceId)
                    .col(Outbox::ToAddress)
                    .col(Outbox::Id)
                    .to_owned(),
            )
            .await?;
        for column in [
            Outbox::Topic,
            Outbox::Channel,
            Outbox::AlertRecipientId,
            Outbox::EndpointId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
