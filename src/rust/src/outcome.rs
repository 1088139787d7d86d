//! How a wait's outcome reaches R: `TRUE` (done), `FALSE` (timed out), or
//! the error list of [`crate::error`] (an interrupt is the `interrupt` kind).
//! Shared by every primitive, so none imports another.

use crate::error::{Error, Kind, Result};
use crate::wait::Outcome;
use extendr_api::prelude::*;

pub fn outcome_to_r(out: Result<Outcome>) -> Robj {
    match out {
        Ok(Outcome::Done) => true.into(),
        Ok(Outcome::TimedOut) => false.into(),
        Ok(Outcome::Interrupted) => Error::interrupted().into(),
        // Callers follow the name on `Removed`; reaching here is a bug.
        Ok(Outcome::Removed) => Error::new(Kind::NotFound, "the object was removed").into(),
        Err(e) => e.into(),
    }
}
