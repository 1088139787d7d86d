//! R entry points for [`rustipc_core::msg_queue`].

use crate::error::{err_to_r, handle, to_r, Error, Kind, Result};
use extendr_api::prelude::*;
use rustipc_core::msg_queue::{Handle, Queue, Token};
use rustipc_core::store::{Assert, Named};
use rustipc_core::token;
use rustipc_core::wait::{Deadline, Interrupts, Outcome};
use std::sync::Arc;

/// A token as R holds it (see [`Token::to_parts`]).
fn token_to_r(t: Token) -> Robj {
    t.to_parts().to_vec().into()
}

fn token_from_r(x: &Robj) -> Result<Token> {
    Token::from_parts(x.as_real_slice().unwrap_or(&[]))
}

fn get(x: &Robj) -> Result<&Handle> {
    handle(x, "msg_queue")
}

#[extendr]
fn rs_mq_open(name: &str, assert: &str, max_count: f64, max_nchar: f64, cleanup: bool) -> Robj {
    let creator = || if cleanup { token::mine().map(|t| t.pack()) } else { Ok(0) };
    to_r(
        Assert::parse(assert)
            .and_then(|a| Queue::open(name, a, max_count as u32, max_nchar as u32, creator()?))
            .map(|q| ExternalPtr::new(Named::new(name, Arc::new(q)))),
    )
}

/// For `with()`: `list(msg = <string>, token = <double>)`, NULL on timeout,
/// or an error list (an interrupt included), as `rs_mq_receive`.  The
/// message stays in the queue, TAKEN by this process, until
/// `rs_mq_settle()`; if the process dies first, the message is put back.
/// `token` is `c(slot, seq %/% 2^32, seq %% 2^32)`: three whole doubles,
/// each below 2^32, so exact.
#[extendr]
fn rs_mq_take(h: Robj, timeout_ms: f64) -> Robj {
    let deadline = Deadline::from_ms(timeout_ms);
    let got = get(&h).and_then(|q| q.follow(|q| q.take(deadline, Interrupts::Check)));
    match got {
        Ok(Ok((msg, token))) => list!(msg = msg, token = token_to_r(token)).into(),
        Ok(Err(Outcome::Interrupted)) => err_to_r(Error::interrupted()),
        Ok(Err(_)) => ().into(),
        Err(e) => err_to_r(e),
    }
}

/// Settle a message `rs_mq_take()` returned: `put_back = TRUE` makes it
/// waiting again, first in its original order; `FALSE` consumes it.  TRUE,
/// or FALSE when the token no longer matches a message this process holds
/// (settled already, or the queue was removed), or an error list (a bad
/// token, an interrupt while the mutex was busy).  Works on the queue the
/// handle used last, the one the message came from.
#[extendr]
fn rs_mq_settle(h: Robj, token: Robj, put_back: bool) -> Robj {
    let done = get(&h).and_then(|q| {
        let token = token_from_r(&token)?;
        // Not interruptible: with() settles from a cleanup handler, and
        // the queue's mutex is only ever held for a copy.
        q.last().settle(token, put_back, Interrupts::Ignore)
    });
    match done {
        Ok(Ok(b)) => b.into(),
        Ok(Err(Outcome::Interrupted)) => err_to_r(Error::interrupted()),
        Ok(Err(_)) => false.into(),
        Err(e) => err_to_r(e),
    }
}

/// c(count, max_count, max_nchar) as integers.
#[extendr]
fn rs_mq_info(h: Robj) -> Robj {
    to_r(get(&h).and_then(|q| q.get()).map(|q| vec![q.count() as i32, q.max_count as i32, q.max_nchar as i32]))
}

#[extendr]
fn rs_mq_remove(h: Robj) -> Robj {
    to_r(get(&h).and_then(|q| match q.get() {
        Ok(now) => now.remove(),
        Err(e) if e.kind == Kind::NotFound => Ok(false),
        Err(e) => Err(e),
    }))
}

extendr_module! {
    mod msg_queue;
    fn rs_mq_open;
    fn rs_mq_take;
    fn rs_mq_settle;
    fn rs_mq_info;
    fn rs_mq_remove;
}
