//! How intake writes are committed: one order alone, or several writes in one transaction.

use super::*;

/// Places one order in a transaction of its own.
pub(crate) async fn place_alone(write: &sqlx::Pool<Db>, order: &PlaceOrder) -> Result<Placed> {
    let mut conn = write.acquire().await?;
    place_within(&mut conn, order).await
}

/// Places an order in a transaction begun on `conn`: a transaction of its
/// own, or a savepoint when `conn` is already in one. A failed order is
/// undone before a duplicate reference is looked up.
pub(crate) async fn place_within(conn: &mut Conn, order: &PlaceOrder) -> Result<Placed> {
    let mut tx = conn.begin().await?;
    match place(&mut tx, order).await {
        Ok(placed) => {
            tx.commit().await?;
            Ok(placed)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(name_the_winner(conn, order, e).await?)
        }
    }
}

/// Records connector events, with one statement.
pub(crate) async fn insert_events(conn: &mut Conn, events: &[&NewConnectorEvent]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    setwise::insert_events(conn, events, now()).await
}

/// A duplicate reference found by the unique index (a race with another
/// writer) names the order that won, once the loser's writes are undone.
pub(super) async fn name_the_winner(
    conn: &mut Conn,
    order: &PlaceOrder,
    e: Error,
) -> Result<Error> {
    match e {
        Error::Domain(DomainError::Conflict {
            code: "duplicate_online_reference_no",
            existing_id: None,
            ..
        }) => {
            let reference = order.request.online_reference_no.trim();
            Ok(
                match existing_order(conn, order.principal.store_id, reference).await? {
                    Some(id) => duplicate_order(reference, id),
                    None => DomainError::conflict(
                        "duplicate_online_reference_no",
                        "duplicate online_reference_no",
                    )
                    .into(),
                },
            )
        }
        e => Ok(e),
    }
}
