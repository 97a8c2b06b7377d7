//! The prompt as a visitor meets it:
//!
//! - `kinds`: every kind, answered, stored and accessible in light and dark;
//!   the follow-up; every kind right to left
//! - `focus`: the keyboard, the centre modal's focus, the feedback tab
//! - `look`: reduced motion, the site's theme, inline prompts, a hostile page

mod focus;
mod kinds;
mod look;
