//! The site configuration: the site file (`touchpoint apply`, `GET/PUT
//! /v1/sites/{key}/site`) and what the loader and widget read from
//! `GET /v1/sites/{key}/config`.

use crate::Metric;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A journey stage: pages matched by globs, listed in journey order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub pages: Vec<String>,
}

/// When a touchpoint's prompt appears. Every trigger waits for the page to
/// have loaded; `delay_ms` is then added (for `time`, counted only while
/// the page is visible).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub on: TriggerOn,
    #[serde(default)]
    pub delay_ms: u32,
    /// `scroll`: how far down the page, in percent (1–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u8>,
    /// `click`: a CSS selector; a click on a matching element (or inside one) fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// `event`: the name the page sends with `touchpoint('track', name)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// `signal`: the behavioural signal that asks: `rage_click`, `dead_click` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
}

impl Default for Trigger {
    fn default() -> Self {
        Trigger {
            on: TriggerOn::Load,
            delay_ms: 0,
            percent: None,
            selector: None,
            event: None,
            signal: None,
        }
    }
}

/// What fires a prompt. `touchpoint('show', id)` shows any touchpoint
/// eligible on the page whatever its trigger; `manual` waits for nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerOn {
    /// After the page has loaded and `delay_ms` have passed.
    Load,
    /// After `delay_ms` of time on the page while it is visible.
    Time,
    /// When the visitor has scrolled `percent` of the page.
    Scroll,
    /// When the pointer leaves through the top of the window (desktop only).
    Exit,
    /// On a click on an element matching `selector`.
    Click,
    /// When the page calls `touchpoint('track', event)`.
    Event,
    /// Only through `touchpoint('show', id)`.
    Manual,
    /// A feedback tab on the edge of the window opens it, any time: not
    /// counted against the contact budget, and not held back once answered
    /// (give it `recontact_days = 0` to keep the tab on every page).
    Tab,
    /// When the visitor shows a behavioural `signal` on the page ("Stuck?
    /// Tell us what happened").
    Signal,
}

impl TriggerOn {
    pub const ALL: [TriggerOn; 9] = [
        TriggerOn::Load,
        TriggerOn::Time,
        TriggerOn::Scroll,
        TriggerOn::Exit,
        TriggerOn::Click,
        TriggerOn::Event,
        TriggerOn::Manual,
        TriggerOn::Tab,
        TriggerOn::Signal,
    ];

    pub fn parse(s: &str) -> Option<TriggerOn> {
        TriggerOn::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            TriggerOn::Load => "load",
            TriggerOn::Time => "time",
            TriggerOn::Scroll => "scroll",
            TriggerOn::Exit => "exit",
            TriggerOn::Click => "click",
            TriggerOn::Event => "event",
            TriggerOn::Manual => "manual",
            TriggerOn::Tab => "tab",
            TriggerOn::Signal => "signal",
        }
    }
}

/// A question asked somewhere in the journey.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Touchpoint {
    pub id: String,
    pub metric: Metric,
    /// Question text per locale (`en`, `ru`, `pt-BR`, …).
    pub question: BTreeMap<String, String>,
    #[serde(default)]
    pub trigger: Trigger,
    /// Page globs where it may appear; empty means every page.
    #[serde(default)]
    pub pages: Vec<String>,
    /// Journey stages (ids of the site's `[[stage]]`s) where it may
    /// appear; empty means every stage. The stage is the page's (set by
    /// `data-stage` or `touchpoint('stage', id)`), else the first stage
    /// whose globs match the path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
    /// Share of visitors asked, 0–1.
    #[serde(default = "one")]
    pub sample: f64,
    /// Days before the same visitor is asked again.
    #[serde(default = "thirty")]
    pub recontact_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUp>,
    /// For `choice`: the options offered, in display order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    /// For `choice`: the visitor may pick several options.
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiple: bool,
    /// For `csat`: the 1–5 scale as numbers (the default), stars or faces.
    #[serde(default, skip_serializing_if = "Look::is_numbers")]
    pub scale: Look,
    /// Where the prompt appears: a card in the corner (the default), or a
    /// modal dialog in the centre that holds the focus until it closes.
    /// (`[data-touchpoint="id"]` in the page places it inline instead.)
    #[serde(default, skip_serializing_if = "Position::is_corner")]
    pub position: Position,
    /// Who may be asked: attribute key (declared in `[site] attributes`) →
    /// the values that qualify, as `touchpoint('identify', {…})` set them
    /// (`{ plan = ["pro"] }`). Every key must match; empty: everyone.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub audience: BTreeMap<String, Vec<String>>,
}

/// How a 1–5 scale is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Look {
    #[default]
    Numbers,
    Stars,
    Faces,
}

impl Look {
    #[allow(clippy::trivially_copy_pass_by_ref)]
    fn is_numbers(&self) -> bool {
        *self == Look::Numbers
    }
}

/// Where an overlay prompt appears.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    #[default]
    Corner,
    Center,
}

impl Position {
    #[allow(clippy::trivially_copy_pass_by_ref)]
    fn is_corner(&self) -> bool {
        *self == Position::Corner
    }
}

fn one() -> f64 {
    1.0
}
fn thirty() -> u32 {
    30
}
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(b: &bool) -> bool {
    !*b
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(b: &bool) -> bool {
    *b
}
fn yes() -> bool {
    true
}
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How the prompt looks on a site. A page can also set the prompt's CSS
/// custom properties on `touchpoint-prompt` (`--tp-brand`, `--tp-bg`,
/// `--tp-fg`, `--tp-font`, …) in its own stylesheet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// Brand colour, `#rrggbb`: buttons, focus rings, picked options. The
    /// text on it is black or white, whichever contrasts more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// The bottom corner the prompt sits in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corner: Option<Corner>,
    /// `inherit`: the prompt uses the page's font.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font: Option<FontChoice>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corner {
    Right,
    Left,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FontChoice {
    /// The page's own font (its `body` font family).
    Inherit,
    /// The system's interface font (the default).
    System,
}

/// One answer a choice question offers: `id` is what events carry in
/// `choices` and what aggregates count; `label` is shown, per locale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub id: String,
    pub label: BTreeMap<String, String>,
}

/// A second question shown after a score in `[min, max]` (both inclusive,
/// open when absent). Its answer travels in the same response event (same
/// id, resent): free text in `comment`, or with `options`, the picked ids in
/// `choices`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub question: BTreeMap<String, String>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    /// Options to pick from; empty means a free-text answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiple: bool,
}

impl FollowUp {
    /// Whether a score of `score` leads to this follow-up.
    pub fn applies_to(&self, score: Option<i64>) -> bool {
        match score {
            Some(s) => self.min.is_none_or(|m| s >= m) && self.max.is_none_or(|m| s <= m),
            None => self.min.is_none() && self.max.is_none(),
        }
    }
}

/// `GET /v1/sites/{key}/config`: everything the loader and widget need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WidgetConfig {
    pub site: String,
    /// Contact budget: at most one overlay prompt per visitor in this many
    /// days, across all touchpoints (0: no budget beyond each touchpoint's
    /// `recontact_days`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub contact_days: u32,
    /// Whether a browser's Global Privacy Control or Do-Not-Track signal
    /// keeps the widget away (unless the page has given consent through
    /// `touchpoint('consent', true)`). Sent only when off.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub respect_gpc: bool,
    /// How the prompt looks on this site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<Theme>,
    pub stages: Vec<Stage>,
    pub touchpoints: Vec<Touchpoint>,
    /// Ids of the site's outcomes: `touchpoint('track', id)` records these
    /// (and only these) as reached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<String>,
    /// Where the widget lives, relative to the API origin; `None` when this
    /// server was built without the widget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget: Option<WidgetAssets>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetAssets {
    /// wasm-bindgen glue (an ES module).
    pub js: String,
    pub wasm: String,
}
/// A site's whole configuration in the shape of its site file: TOML for
/// `touchpoint apply`, JSON for `GET/PUT /v1/sites/{key}/site`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteDocument {
    pub site: SiteSettings,
    /// `[theme]`: brand colour, corner, font.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<Theme>,
    /// `[[stage]]`s, in journey order.
    #[serde(default)]
    pub stage: Vec<Stage>,
    #[serde(default)]
    pub touchpoint: Vec<Touchpoint>,
    /// `[[alert]]`s: where alert-worthy answers are posted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert: Vec<crate::AlertDestination>,
    /// `[[outcome]]`s: what `touchpoint('track', id)` may record as reached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcome: Vec<Outcome>,
}

/// `[[outcome]]`: a goal a visitor can reach (`purchase`, `signup`), recorded
/// by `touchpoint('track', id)`; `/outcomes` counts conversion after answers.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// `[site]`: who the site is and the rules that hold across its touchpoints.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSettings {
    pub name: String,
    /// Public site key used in the script tag; generated when absent.
    #[serde(default)]
    pub key: Option<String>,
    /// Browser origins allowed to send events (`https://shop.example`).
    /// Empty: any origin.
    #[serde(default)]
    pub origins: Vec<String>,
    /// Days events are kept; older ones are purged.
    #[serde(default = "default_retention")]
    pub retention_days: u32,
    /// At most one overlay prompt per visitor in this many days, across all
    /// touchpoints; 0 leaves it to each touchpoint's `recontact_days`.
    #[serde(default)]
    pub contact_days: u32,
    /// Stay away from browsers that send Global Privacy Control or
    /// Do-Not-Track, unless the page gave consent (default true).
    #[serde(default = "yes")]
    pub respect_gpc: bool,
    /// The IANA time zone (`Europe/Berlin`) the site's days are counted in:
    /// daily and weekly figures, date filters, trends. UTC by default.
    #[serde(default = "utc")]
    pub timezone: String,
    /// Visitor attributes `touchpoint('identify', {…})` may set (`plan`);
    /// any other key is dropped on arrival.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
}

fn default_retention() -> u32 {
    365
}

fn utc() -> String {
    "UTC".to_owned()
}

/// The keys the widget reads from the configuration the loader hands it
/// (the touchpoints, stages and theme of [`WidgetConfig`], as JSON). The
/// widget reads them through these names only; a test checks each against
/// the JSON that [`WidgetConfig`] encodes, so a renamed field cannot silently
/// go unread. (The loader's own reads are checked against it too.)
pub mod keys {
    /// Of [`super::WidgetConfig`], handed on by the loader.
    pub const THEME: &str = "theme";
    pub const STAGES: &str = "stages";
    /// Of [`super::Theme`].
    pub const BRAND: &str = "brand";
    pub const CORNER: &str = "corner";
    pub const FONT: &str = "font";
    /// Of [`super::Stage`] and [`super::Touchpoint`] (and a choice option).
    pub const ID: &str = "id";
    pub const PAGES: &str = "pages";
    /// Of [`super::Touchpoint`].
    pub const METRIC: &str = "metric";
    pub const QUESTION: &str = "question";
    pub const TRIGGER: &str = "trigger";
    pub const STAGES_OF_TOUCHPOINT: &str = "stages";
    pub const FOLLOW_UP: &str = "follow_up";
    pub const OPTIONS: &str = "options";
    pub const MULTIPLE: &str = "multiple";
    pub const SCALE: &str = "scale";
    pub const POSITION: &str = "position";
    /// Of [`super::Trigger`].
    pub const ON: &str = "on";
    pub const DELAY_MS: &str = "delay_ms";
    pub const PERCENT: &str = "percent";
    pub const SELECTOR: &str = "selector";
    pub const EVENT: &str = "event";
    pub const SIGNAL: &str = "signal";
    /// Of [`super::FollowUp`].
    pub const MIN: &str = "min";
    pub const MAX: &str = "max";
    /// Of [`super::ChoiceOption`].
    pub const LABEL: &str = "label";
}
