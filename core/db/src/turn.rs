//! The order in which concurrent intake batches lock their stock.

/// A batch's turn to lock the balances it draws on: after the batch formed
/// before it has locked its own, so that where two batches are written at
/// once (Postgres) the later arrivals are still decided after the earlier
/// ones, on the balances those left. The turn passes on to the next batch
/// as soon as this one holds its locks, or when it is dropped (a batch that
/// locks nothing, fails or panics never holds the next one up).
pub(crate) struct Turn {
    after: Option<tokio::sync::oneshot::Receiver<()>>,
    then: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Turn {
    /// A turn that waits for nothing and hands on to nobody (an order
    /// placed on its own).
    pub(crate) fn free() -> Turn {
        Turn {
            after: None,
            then: None,
        }
    }

    /// The turn after `previous` (none for the first), and the signal the
    /// next batch's turn waits for.
    pub(crate) fn after(
        previous: Option<tokio::sync::oneshot::Receiver<()>>,
    ) -> (Turn, tokio::sync::oneshot::Receiver<()>) {
        let (then, next) = tokio::sync::oneshot::channel();
        (
            Turn {
                after: previous,
                then: Some(then),
            },
            next,
        )
    }

    /// Waits until the batch before has locked (or given up).
    pub(crate) async fn wait(&mut self) {
        if let Some(before) = self.after.take() {
            // An error is the batch before gone without locking: go on.
            let _ = before.await;
        }
    }

    /// Lets the next batch lock.
    pub(crate) fn pass(&mut self) {
        if let Some(then) = self.then.take() {
            let _ = then.send(());
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.pass();
    }
}

#[cfg(test)]
mod tests {
    use super::Turn;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// Three batches formed in order, the later two ready first: each locks
    /// only once the one before has locked, and one that ends without
    /// passing its turn on (dropped) lets the next go all the same.
    #[tokio::test]
    async fn batches_lock_in_the_order_they_formed() {
        let (mut first, next) = Turn::after(None);
        let (mut second, next) = Turn::after(Some(next));
        let (mut third, _) = Turn::after(Some(next));
        let locked = Arc::new(Mutex::new(Vec::new()));
        let log = locked.clone();
        let third = tokio::spawn(async move {
            third.wait().await;
            log.lock().unwrap().push(3);
            third.pass();
        });
        let log = locked.clone();
        let second = tokio::spawn(async move {
            second.wait().await;
            log.lock().unwrap().push(2);
            drop(second);
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            locked.lock().unwrap().is_empty(),
            "nobody locks before the first"
        );
        first.wait().await;
        locked.lock().unwrap().push(1);
        first.pass();
        second.await.unwrap();
        third.await.unwrap();
        assert_eq!(*locked.lock().unwrap(), [1, 2, 3]);
    }
}
