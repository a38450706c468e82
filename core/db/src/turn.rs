//! How a batch of the intake lets the next one form (Postgres, where two
//! batches are written at once).

/// A batch's turn to lock the balances it draws on. The intake forms the
/// next batch only once this one holds its locks (it passes the turn) or
/// has given up (the turn is dropped: a batch that locks nothing, fails or
/// panics never holds the next one up). The next batch then reads what it
/// needs while this one writes and commits, and locks after it: the later
/// arrivals are decided after the earlier ones, on the balances those left.
pub(crate) struct Turn {
    then: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Turn {
    /// A turn nobody waits for (an order placed on its own).
    pub(crate) fn free() -> Turn {
        Turn { then: None }
    }

    /// A turn, and what the intake waits on before it forms the next batch.
    pub(crate) fn new() -> (Turn, tokio::sync::oneshot::Receiver<()>) {
        let (then, next) = tokio::sync::oneshot::channel();
        (Turn { then: Some(then) }, next)
    }

    /// The batch holds its locks: the next may form.
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

    /// The next batch waits until the turn is passed, or dropped.
    #[tokio::test]
    async fn a_turn_passes_once_locked_or_given_up() {
        let (mut turn, mut next) = Turn::new();
        assert!(next.try_recv().is_err(), "not before the locks are held");
        turn.pass();
        assert!(next.await.is_ok());
        // A batch that fails, or panics, drops its turn: the wait ends.
        let (turn, next) = Turn::new();
        drop(turn);
        assert!(next.await.is_ok());
    }
}
