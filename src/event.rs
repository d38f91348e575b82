//! The seed SDK's calls as one event model, with every validation rule of
//! the wire contract. An [`Event`] that exists is valid; serialising it is
//! `wire`'s job.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{invalid_argument, Error, ErrorCode};
use crate::json::JsonObject;
use crate::text::cat;

/// The reserved event title used for identification.
pub const IDENTIFY: &str = "Identify";

/// One tracking call (identify, group, track, record or alias), validated.
///
/// ```
/// use intempt_edge::{Event, JsonObject, ErrorCode};
/// let props = JsonObject::parse(r#"{"price_amount":50}"#).unwrap();
/// let event = Event::track("1845348", "Purchase", Some(props)).unwrap();
/// assert_eq!(event.name(), "Purchase");
/// let err = Event::track("1845348", "Identify", None).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::ReservedTitle);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub(crate) name: String,
    pub(crate) profile_id: String,
    pub(crate) user_id: Option<String>,
    pub(crate) account_id: Option<String>,
    pub(crate) data: Option<JsonObject>,
    pub(crate) user_attributes: Option<JsonObject>,
    pub(crate) account_attributes: Option<JsonObject>,
    pub(crate) another_user_id: Option<String>,
}

/// A non-empty string, taken by value (a `String` is moved, not copied).
fn required(what: &str, value: impl Into<String>) -> Result<String, Error> {
    let value = value.into();
    if value.is_empty() {
        Err(invalid_argument(what))
    } else {
        Ok(value)
    }
}

fn optional(what: &str, value: Option<&str>) -> Result<Option<String>, Error> {
    value.map(|v| required(what, v)).transpose()
}

/// A title for `track`/`record`: non-empty and not the reserved `"Identify"`.
fn custom_title(title: impl Into<String>) -> Result<String, Error> {
    let title = title.into();
    if title == IDENTIFY {
        return Err(Error::new(
            ErrorCode::ReservedTitle,
            "eventTitle 'Identify' is reserved for identify(); choose another title",
        ));
    }
    required("eventTitle", title)
}

impl Event {
    fn new(name: String, profile_id: impl Into<String>) -> Result<Event, Error> {
        Ok(Event {
            name,
            profile_id: required("profileId", profile_id)?,
            user_id: None,
            account_id: None,
            data: None,
            user_attributes: None,
            account_attributes: None,
            another_user_id: None,
        })
    }

    /// The name an identify/group call is sent under, checking the rule that
    /// attributes need a title other than `"Identify"` (Node 1.x silently
    /// dropped them; that loses data).
    fn identification_name(
        method: &str,
        title: Option<&str>,
        has_attributes: bool,
    ) -> Result<String, Error> {
        match title {
            Some("") => Err(invalid_argument("eventTitle")),
            Some(t) if t != IDENTIFY => Ok(t.to_owned()),
            _ if has_attributes => Err(Error::new(
                ErrorCode::AttributesNeedTitle,
                cat!(method, "(): attributes need an event title other than 'Identify'; pass a title such as '", method, " user'"),
            )),
            _ => Ok(IDENTIFY.to_owned()),
        }
    }

    /// `identify(profileId, userId, eventTitle?, userAttributes?)`.
    pub fn identify(
        profile_id: impl Into<String>,
        user_id: impl Into<String>,
        title: Option<&str>,
        user_attributes: Option<JsonObject>,
    ) -> Result<Event, Error> {
        let name = Self::identification_name("identify", title, user_attributes.is_some())?;
        let mut event = Event::new(name, profile_id)?;
        event.user_id = Some(required("userId", user_id)?);
        event.user_attributes = user_attributes;
        Ok(event)
    }

    /// `group(profileId, accountId, eventTitle?, accountAttributes?)`.
    pub fn group(
        profile_id: impl Into<String>,
        account_id: impl Into<String>,
        title: Option<&str>,
        account_attributes: Option<JsonObject>,
    ) -> Result<Event, Error> {
        let name = Self::identification_name("group", title, account_attributes.is_some())?;
        let mut event = Event::new(name, profile_id)?;
        event.account_id = Some(required("accountId", account_id)?);
        event.account_attributes = account_attributes;
        Ok(event)
    }

    /// `track(profileId, eventTitle, properties)`.
    pub fn track(
        profile_id: impl Into<String>,
        title: impl Into<String>,
        properties: Option<JsonObject>,
    ) -> Result<Event, Error> {
        let mut event = Event::new(custom_title(title)?, profile_id)?;
        event.data = properties;
        Ok(event)
    }

    /// `record(profileId, eventTitle, userId?, accountId?, properties?,
    /// userAttributes?, accountAttributes?)`: every field but the profile id
    /// and the title is optional, so they are set by name on the returned
    /// [`RecordBuilder`], and [`build`](RecordBuilder::build) validates them.
    ///
    /// ```
    /// use intempt_edge::{Event, JsonObject};
    /// let event = Event::record("1845348", "Purchase")
    ///     .user_id("john@example.com")
    ///     .properties(JsonObject::parse(r#"{"price_amount":50}"#)?)
    ///     .user_attributes(JsonObject::parse(r#"{"plan":"pro"}"#)?)
    ///     .build()?;
    /// assert_eq!(event.name(), "Purchase");
    /// # Ok::<(), intempt_edge::Error>(())
    /// ```
    pub fn record(profile_id: impl Into<String>, title: impl Into<String>) -> RecordBuilder {
        RecordBuilder {
            profile_id: profile_id.into(),
            title: title.into(),
            user_id: None,
            account_id: None,
            properties: None,
            user_attributes: None,
            account_attributes: None,
        }
    }

    /// `alias(profileId, userId, anotherUserId)`.
    pub fn alias(
        profile_id: impl Into<String>,
        user_id: impl Into<String>,
        another_user_id: impl Into<String>,
    ) -> Result<Event, Error> {
        let mut event = Event::new(IDENTIFY.to_owned(), profile_id)?;
        event.user_id = Some(required("userId", user_id)?);
        event.another_user_id = Some(required("anotherUserId", another_user_id)?);
        Ok(event)
    }

    /// The name the event is sent under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The profile id (`profileId`).
    pub fn profile_id(&self) -> &str {
        &self.profile_id
    }

    /// The user id (`userId`), when the call had one.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The account id (`accountId`), when the call had one.
    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }

    /// The properties (sent as `data`), when the call had some.
    pub fn properties(&self) -> Option<&JsonObject> {
        self.data.as_ref()
    }

    /// Attributes of the user (`userAttributes`).
    pub fn user_attributes(&self) -> Option<&JsonObject> {
        self.user_attributes.as_ref()
    }

    /// Attributes of the account (`accountAttributes`).
    pub fn account_attributes(&self) -> Option<&JsonObject> {
        self.account_attributes.as_ref()
    }

    /// The other user id of an alias (`anotherUserId`).
    pub fn another_user_id(&self) -> Option<&str> {
        self.another_user_id.as_deref()
    }

    /// An event from its wire fields, as a `beforeSend` hook returned them,
    /// checked by the rules of the calls: a non-empty name and profile id,
    /// non-empty ids when given; under the name `"Identify"` (identify,
    /// group and alias) a user or account id and no properties or
    /// attributes; `anotherUserId` only in an alias (the name `"Identify"`
    /// and a user id).
    #[cfg_attr(not(all(target_arch = "wasm32", feature = "npm")), allow(dead_code))]
    pub(crate) fn from_parts(parts: Parts) -> Result<Event, Error> {
        let mut event = Event::new(required("name", parts.name)?, parts.profile_id)?;
        event.user_id = optional("userId", parts.user_id.as_deref())?;
        event.account_id = optional("accountId", parts.account_id.as_deref())?;
        event.another_user_id = optional("anotherUserId", parts.another_user_id.as_deref())?;
        if event.name == IDENTIFY {
            if event.user_id.is_none() && event.account_id.is_none() {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    "the name 'Identify' needs a userId (identify, alias) or an accountId (group)",
                ));
            }
            if parts.data.is_some() {
                return Err(Error::new(
                    ErrorCode::ReservedTitle,
                    "the name 'Identify' cannot carry data (track's properties); keep the event's name",
                ));
            }
            if parts.user_attributes.is_some() || parts.account_attributes.is_some() {
                return Err(Error::new(
                    ErrorCode::AttributesNeedTitle,
                    "attributes need a name other than 'Identify'",
                ));
            }
        }
        if event.another_user_id.is_some() && (event.name != IDENTIFY || event.user_id.is_none()) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "anotherUserId belongs to an alias: the name 'Identify' and a userId",
            ));
        }
        event.data = parts.data;
        event.user_attributes = parts.user_attributes;
        event.account_attributes = parts.account_attributes;
        Ok(event)
    }
}

/// The wire fields of an event, unchecked (see `Event::from_parts`).
#[cfg_attr(not(all(target_arch = "wasm32", feature = "npm")), allow(dead_code))]
#[derive(Default)]
pub(crate) struct Parts {
    pub name: String,
    pub profile_id: String,
    pub user_id: Option<String>,
    pub account_id: Option<String>,
    pub another_user_id: Option<String>,
    pub data: Option<JsonObject>,
    pub user_attributes: Option<JsonObject>,
    pub account_attributes: Option<JsonObject>,
}

/// The optional fields of a `record` call, by name; see [`Event::record`].
#[derive(Clone, Debug)]
#[must_use = "call build() to get the Event"]
pub struct RecordBuilder {
    pub(crate) profile_id: String,
    pub(crate) title: String,
    pub(crate) user_id: Option<String>,
    pub(crate) account_id: Option<String>,
    pub(crate) properties: Option<JsonObject>,
    pub(crate) user_attributes: Option<JsonObject>,
    pub(crate) account_attributes: Option<JsonObject>,
}

impl RecordBuilder {
    /// The user id (`userId`).
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// The account id (`accountId`).
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// The event's properties (sent as `data`).
    pub fn properties(mut self, properties: JsonObject) -> Self {
        self.properties = Some(properties);
        self
    }

    /// Attributes of the user (`userAttributes`).
    pub fn user_attributes(mut self, attributes: JsonObject) -> Self {
        self.user_attributes = Some(attributes);
        self
    }

    /// Attributes of the account (`accountAttributes`).
    pub fn account_attributes(mut self, attributes: JsonObject) -> Self {
        self.account_attributes = Some(attributes);
        self
    }

    /// Validates the call: [`ErrorCode::ReservedTitle`] for the title
    /// `"Identify"`, [`ErrorCode::InvalidArgument`] for an empty title or id.
    pub fn build(self) -> Result<Event, Error> {
        let mut event = Event::new(custom_title(self.title)?, self.profile_id)?;
        event.user_id = optional("userId", self.user_id.as_deref())?;
        event.account_id = optional("accountId", self.account_id.as_deref())?;
        event.data = self.properties;
        event.user_attributes = self.user_attributes;
        event.account_attributes = self.account_attributes;
        Ok(event)
    }
}

/// A consent decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentAction {
    /// `"accept"`.
    Accept,
    /// `"reject"`.
    Reject,
}

impl ConsentAction {
    /// Parses `"accept"` or `"reject"` (exactly).
    pub fn parse(action: &str) -> Result<ConsentAction, Error> {
        match action {
            "accept" => Ok(ConsentAction::Accept),
            "reject" => Ok(ConsentAction::Reject),
            _ => Err(Error::new(
                ErrorCode::InvalidAction,
                "consent action must be 'accept' or 'reject'",
            )),
        }
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentAction::Accept => "accept",
            ConsentAction::Reject => "reject",
        }
    }
}

/// When a consent expires, sent exactly as the caller gave it.
#[derive(Clone, Debug, PartialEq)]
pub enum ValidUntil {
    /// A string such as `"1711705256000"` (the seed's examples).
    Text(String),
    /// A number (finite).
    Number(f64),
}

/// A `consents()` (all categories) or `consent()` (one category) call, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Consent {
    pub(crate) profile_id: String,
    pub(crate) action: ConsentAction,
    pub(crate) category: Option<String>,
    pub(crate) valid_until: Option<ValidUntil>,
    pub(crate) email: Option<String>,
    pub(crate) message: Option<String>,
}

impl Consent {
    /// `consents(profileId, action, validUntil?, email?, message?)` when
    /// `category` is `None`; `consent(profileId, action, category, …)` otherwise.
    pub fn new(
        profile_id: &str,
        action: ConsentAction,
        category: Option<&str>,
        valid_until: Option<ValidUntil>,
        email: Option<&str>,
        message: Option<&str>,
    ) -> Result<Consent, Error> {
        Consent::with_action_text(
            profile_id,
            action.as_str(),
            category,
            valid_until,
            email,
            message,
        )
    }

    /// [`Consent::new`] with the action as text (the JS boundary's), parsed
    /// by [`ConsentAction::parse`] in its place among the other checks
    /// (validUntil, profileId, action, category).
    pub(crate) fn with_action_text(
        profile_id: &str,
        action: &str,
        category: Option<&str>,
        valid_until: Option<ValidUntil>,
        email: Option<&str>,
        message: Option<&str>,
    ) -> Result<Consent, Error> {
        let valid_until = match valid_until {
            Some(ValidUntil::Number(n)) if !n.is_finite() => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    "validUntil must be a string or a finite number",
                ))
            }
            Some(ValidUntil::Text(t)) if t.is_empty() => {
                return Err(invalid_argument("validUntil"))
            }
            other => other,
        };
        Ok(Consent {
            profile_id: required("profileId", profile_id)?,
            action: ConsentAction::parse(action)?,
            category: optional("category", category)?,
            valid_until,
            // Free text: the contract accepts any string, the empty one too.
            email: email.map(str::to_owned),
            message: message.map(str::to_owned),
        })
    }
}

/// Which kind of optimization a choose call asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizationType {
    /// `"personalization"`.
    Personalization,
    /// `"experiment"`.
    Experiment,
}

/// What a choose call selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Everything (no list given).
    All,
    /// By group.
    Groups(Vec<String>),
    /// By name.
    Names(Vec<String>),
}

/// A choose call, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choose {
    pub(crate) profile_id: String,
    pub(crate) kind: OptimizationType,
    pub(crate) selector: Selector,
}

impl Choose {
    /// A choose call for `profile_id`.
    pub fn new(
        profile_id: &str,
        kind: OptimizationType,
        selector: Selector,
    ) -> Result<Choose, Error> {
        Ok(Choose {
            profile_id: required("profileId", profile_id)?,
            kind,
            selector,
        })
    }
}

#[cfg(test)]
mod tests;
