//! Reads the wire types from the value the browser's `JSON.parse` gives.
//!
//! A deserializer of its own rather than a general one: each wire type's
//! reader is compiled once per way a deserializer may hand it its data,
//! and a general one offers three for every struct (an object, a `Map`, an
//! array). JSON gives objects only, so this one offers objects for structs
//! and maps, arrays for sequences, and the primitive a type asks for; the
//! rest of each type's reader is never compiled in. About 9 KB less wasm.

use js_sys::{Array, JsString, Object};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};
use std::fmt;
use wasm_bindgen::{JsCast, JsValue};

/// Why a value could not be read (only ever shown as "could not be read").
#[derive(Debug)]
pub struct Error;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unreadable")
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Error
    }
}

/// Reads a `T` from a parsed JSON value.
pub fn from_value<T: de::DeserializeOwned>(v: JsValue) -> Result<T, Error> {
    T::deserialize(Js(v))
}

struct Js(JsValue);

impl Js {
    fn number(&self) -> Result<f64, Error> {
        self.0.as_f64().ok_or(Error)
    }

    fn string(self) -> Result<String, Error> {
        self.0.as_string().ok_or(Error)
    }

    fn entries(self) -> Result<Entries, Error> {
        if !self.0.is_object() || self.0.is_array() {
            return Err(Error);
        }
        Ok(Entries {
            all: Object::entries(self.0.unchecked_ref()),
            at: 0,
            value: JsValue::UNDEFINED,
        })
    }
}

/// Integers arrive as numbers: whole ones within range only.
fn whole(f: f64, min: f64, max: f64) -> Result<f64, Error> {
    if f.fract() == 0.0 && f >= min && f <= max {
        Ok(f)
    } else {
        Err(Error)
    }
}

macro_rules! signed {
    ($($name:ident: $t:ty),*) => {$(
        fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            #[allow(clippy::cast_possible_truncation)]
            v.visit_i64(whole(self.number()?, <$t>::MIN as f64, <$t>::MAX as f64)? as i64)
        }
    )*};
}

macro_rules! unsigned {
    ($($name:ident: $t:ty),*) => {$(
        fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            v.visit_u64(whole(self.number()?, 0.0, <$t>::MAX as f64)? as u64)
        }
    )*};
}

impl<'de> Deserializer<'de> for Js {
    type Error = Error;

    /// Only for what asks for "anything" (skipped fields): by the JSON type.
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        if self.0.is_null() || self.0.is_undefined() {
            v.visit_unit()
        } else if let Some(b) = self.0.as_bool() {
            v.visit_bool(b)
        } else if let Some(f) = self.0.as_f64() {
            v.visit_f64(f)
        } else if self.0.is_string() {
            v.visit_string(self.string()?)
        } else if self.0.is_array() {
            self.deserialize_seq(v)
        } else {
            self.deserialize_map(v)
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_bool(self.0.as_bool().ok_or(Error)?)
    }

    signed!(deserialize_i8: i8, deserialize_i16: i16, deserialize_i32: i32, deserialize_i64: i64);
    unsigned!(deserialize_u8: u8, deserialize_u16: u16, deserialize_u32: u32, deserialize_u64: u64);

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_f64(self.number()?)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_f64(self.number()?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_string(self.string()?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_string(self.string()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_string(self.string()?)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        Err(Error)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        Err(Error)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        if self.0.is_null() || self.0.is_undefined() {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        let all: Array = self.0.dyn_into().map_err(|_| Error)?;
        v.visit_seq(Items { all, at: 0 })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_map(self.entries()?)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_map(self.entries()?)
    }

    /// The wire's enums are names (`"nps"`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_enum(Name(self.string()?))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_string(self.string()?)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }
}

/// An object's `[key, value]` pairs, in order.
struct Entries {
    all: Array,
    at: u32,
    value: JsValue,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.at >= self.all.length() {
            return Ok(None);
        }
        let pair: Array = self.all.get(self.at).unchecked_into();
        self.at += 1;
        self.value = pair.get(1);
        let key: String = pair.get(0).unchecked_into::<JsString>().into();
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(Js(std::mem::take(&mut self.value)))
    }
}

/// An array's items, in order.
struct Items {
    all: Array,
    at: u32,
}

impl<'de> SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.at >= self.all.length() {
            return Ok(None);
        }
        self.at += 1;
        seed.deserialize(Js(self.all.get(self.at - 1))).map(Some)
    }
}

/// A unit variant by its name.
struct Name(String);

impl<'de> EnumAccess<'de> for Name {
    type Error = Error;
    type Variant = <de::value::StringDeserializer<Error> as EnumAccess<'de>>::Variant;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), Error> {
        let de: de::value::StringDeserializer<Error> = self.0.into_deserializer();
        de.variant_seed(seed)
    }
}
