//! Consent and choose calls: sent at once on the caller's request path
//! (`send_now`), with a short timeout, at most one retry, and an [`Error`]
//! the caller can fall back on. They are not queued and not blocked by
//! opt-out or a `Retry-After` pause.

use alloc::borrow::ToOwned;
use alloc::string::String;

use super::{closed, Client};
use crate::error::{Error, ErrorCode};
use crate::event::{Choose, Consent};
use crate::ports::{Clock, Random, Transport};
use crate::retry::Decision;
use crate::text::cat;
use crate::transport::{
    attempt_of, outcome_line, outcome_text, redact, Request, Response, TransportError,
};
use crate::wire::{self, Urls};

impl<T: Transport, C: Clock, R: Random> Client<T, C, R> {
    /// Sends a consent at once (not queued, not blocked by opt-out).
    pub async fn consent(&self, consent: &Consent) -> Result<(), Error> {
        let body = wire::consent_body(&self.config, consent, self.clock.now_ms());
        self.send_now(&Urls::new(&self.config).consents, body)
            .await
            .map(drop)
    }

    /// Asks for experiments or personalizations and returns the `choices`
    /// array as the JSON text the server sent.
    pub async fn choose(&self, choose: &Choose) -> Result<String, Error> {
        let body = wire::choose_body(&self.config, choose);
        let response = self.send_now(&Urls::new(&self.config).choose, body).await?;
        match wire::choices(&response.body) {
            Some(choices) => Ok(choices.to_owned()),
            None => Err(Error::http(
                response.status,
                "the server's answer has no choices array",
            )),
        }
    }

    /// Sends one request outside a flush (a consent, a choose, a
    /// redelivery) and logs its outcome after `label`.
    pub(super) async fn send_logged(
        &self,
        label: &str,
        url: &str,
        body: String,
        timeout_ms: u32,
    ) -> Result<Response, TransportError> {
        let request = Request {
            url: url.to_owned(),
            headers: wire::headers(&self.config),
            body,
            timeout_ms,
            detached: false,
        };
        let sent_at = self.clock.now_ms();
        let result = self.transport.send(request).await;
        self.log(|| {
            let elapsed = self.clock.now_ms() - sent_at;
            cat!(
                label,
                "POST ",
                redact(url),
                " -> ",
                outcome_line(&result),
                " in ",
                elapsed,
                " ms"
            )
        });
        result
    }

    /// One call on the caller's request path: a short timeout, at most one
    /// retry, and a clear error to fall back on.
    async fn send_now(&self, url: &str, body: String) -> Result<Response, Error> {
        if self.state.borrow().closed {
            return Err(closed());
        }
        let mut failures = 0;
        loop {
            let result = self
                .send_logged("", url, body.clone(), self.config.choose_timeout_ms)
                .await;
            failures += 1;
            let decision = self.policy.decide(
                attempt_of(&result),
                failures,
                1,
                self.clock.now_ms(),
                self.random_u32(),
            );
            match (decision, result) {
                (Decision::Delivered, Ok(response)) => return Ok(response),
                (Decision::Retry { after_ms }, _) if failures < 2 && after_ms <= 1_000 => {
                    self.clock.sleep(after_ms).await;
                }
                (Decision::Keep, result @ Ok(_)) => {
                    let (status, message) = outcome_text(&result);
                    return Err(Error::http(status.unwrap_or_default(), message));
                }
                (_, Ok(response)) => {
                    let message = match wire::error_message(&response.body) {
                        Some(m) => cat!("the server answered ", response.status, ": ", m),
                        None => cat!("the server answered ", response.status),
                    };
                    return Err(Error::http(response.status, message));
                }
                (_, Err(error)) => {
                    return Err(Error::new(ErrorCode::NetworkError, error.describe()))
                }
            }
        }
    }
}
