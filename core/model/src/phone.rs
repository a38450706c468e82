//! Customer phone numbers, normalised to E.164 (`+919876543210`) so that the
//! same customer is found however a storefront formats the number.
//!
//! Calling codes, regions, trunk and international prefixes and number
//! lengths come from libphonenumber's metadata through the `phonenumber`
//! crate, which also splits a `+` number into calling code and national
//! number (carrier codes and prefix rewrites included). Where the crate's
//! parser departs from libphonenumber, [`Phone::parse`] decides with
//! libphonenumber's own rules over the same metadata:
//!
//! - a number written without `+` or an international prefix that starts
//!   with the default calling code (`9123456789` in India) is taken as
//!   written with the code only if libphonenumber would (the crate strips
//!   `91` from every such number);
//! - an international number is read with its own country's trunk prefix,
//!   not the default region's (the crate turns `+44 1234 567890` into
//!   `+44234567890` when the default region is the US);
//! - a trunk prefix is dropped at most once, and only where the rest is
//!   still a number of that country (the crate makes `+7 800 555 35 35`
//!   `+7005553535`).
//!
//! A number must be *possible* (its length fits some kind of number of its
//! country), not *valid* (in an allocated range): storefronts send real
//! customers' numbers, but their test and sample orders carry numbers such as
//! `(555) 555-5555` or `+852 5550 1043` that no operator has, and refusing the
//! phone refuses the order. Lengths that only dial locally (a city number
//! without its area code) are refused: they do not name one customer.

use std::fmt;

use phonenumber::country::Id;
use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use serde::{Deserialize, Deserializer, Serialize};

/// A country calling code used for numbers written without one, e.g. `91`,
/// with the region whose national rules (trunk prefix, international
/// prefix) such numbers follow: the code's main country (`1` is the US).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode {
    code: u16,
    region: Id,
}

impl CountryCode {
    /// Reads `91` or `+91`. Codes in no use, and those of non-geographic
    /// services (`800`), are refused: no number is written locally under them.
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let digits = raw.trim().trim_start_matches('+');
        let bad = || PhoneError::BadCountryCode(raw.to_string());
        if digits.is_empty()
            || digits.len() > 3
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let code: u16 = digits.parse().map_err(|_| bad())?;
        let region = DATABASE
            .region(&code)
            .and_then(|regions| regions.first()?.parse().ok())
            .ok_or_else(bad)?;
        Ok(CountryCode { code, region })
    }

    fn metadata(&self) -> &'static Metadata {
        DATABASE
            .by_id(self.region.as_ref())
            .expect("the region was read from the same database")
    }

    /// The digits after this region's international prefix (`00` in India,
    /// `011` in the US), if `digits` start with it.
    fn after_international_prefix<'a>(&self, digits: &'a str) -> Option<&'a str> {
        let prefix = self.metadata().international_prefix()?.find(digits)?;
        (prefix.start() == 0).then(|| &digits[prefix.end()..])
    }

    /// Whether local-looking `digits` that start with this calling code were
    /// written with it (`919845012345`) rather than being a national number
    /// that happens to start with the same digits (`9123456789`): the code
    /// is there if the digits are no national number but the rest is, or
    /// they are too long for one (libphonenumber's rule).
    fn written_with_code(&self, digits: &str) -> bool {
        let Some(rest) = digits.strip_prefix(&*self.code.to_string()) else {
            return false;
        };
        let meta = self.metadata();
        let rest = meta
            .national_prefix()
            .and_then(|p| rest.strip_prefix(p))
            .unwrap_or(rest);
        let metas = [meta];
        (!is_national_number(&metas, digits) && is_national_number(&metas, rest))
            || lengths(&metas).max().is_some_and(|max| digits.len() > max)
    }
}

impl Default for CountryCode {
    /// India: the original product's home market.
    fn default() -> Self {
        CountryCode::parse("91").expect("91 is India's calling code")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("`{0}` is not a phone number (only digits, spaces, dashes, dots, brackets and a leading + are allowed)")]
    BadCharacters(String),
    #[error("`{0}` has {1} digits; a full international number has 8 to 15")]
    BadLength(String, usize),
    #[error("`{0}` is not a country calling code (1 to 3 digits, e.g. 91)")]
    BadCountryCode(String),
    #[error("`{0}` starts with no country calling code in use")]
    UnknownCountryCode(String),
    #[error("`{0}` cannot be a number of +{1}: no number there has that many digits")]
    NotPossible(String, u16),
    #[error(
        "`{0}` does not read the same once normalised (a trunk prefix after the country code?)"
    )]
    Ambiguous(String),
}

/// A phone number in E.164 form. Made only by [`Phone::parse`]
/// (deserialising included).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Normalises a phone as written by a customer. Numbers with `+` or the
    /// default region's international prefix (`00` in India, `011` in the
    /// US) are international; anything else is local to `default_country`,
    /// its trunk prefix dropped (`09876 543210` -> `+919876543210`).
    pub fn parse(raw: &str, default_country: &CountryCode) -> Result<Phone, PhoneError> {
        let trimmed = raw.trim();
        let mut digits = String::with_capacity(trimmed.len() + 3);
        let mut plus = false;
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                ' ' | '-' | '.' | '(' | ')' | '/' => {}
                _ => return Err(PhoneError::BadCharacters(raw.to_string())),
            }
        }
        let international = if plus {
            digits
        } else if let Some(rest) = default_country.after_international_prefix(&digits) {
            rest.to_string()
        } else if default_country.written_with_code(&digits) {
            digits
        } else {
            format!("{}{digits}", default_country.code)
        };
        let (phone, rewritten) = Phone::from_international(raw, &international)?;
        // What is stored must read back as itself, or the customer it keys
        // is not found again by the number the hub shows. Read the same
        // digits again only where a prefix was dropped: otherwise they are
        // the digits just read.
        if rewritten && Phone::from_international(raw, &phone.0[1..])?.0 != phone {
            return Err(PhoneError::Ambiguous(raw.to_string()));
        }
        Ok(phone)
    }

    /// `digits`: a calling code, then the national number as written,
    /// perhaps still with its trunk prefix. Also says whether the national
    /// number differs from what was written.
    fn from_international(raw: &str, digits: &str) -> Result<(Phone, bool), PhoneError> {
        let bad_length = || PhoneError::BadLength(raw.to_string(), digits.len());
        // Dropping prefixes only shortens a number; the crate's parser is
        // not asked about what cannot become one.
        if !(8..=17).contains(&digits.len()) {
            return Err(bad_length());
        }
        let parsed = phonenumber::parse(None, format!("+{digits}")).map_err(|e| match e {
            phonenumber::ParseError::InvalidCountryCode => {
                PhoneError::UnknownCountryCode(raw.to_string())
            }
            _ => bad_length(),
        })?;
        let code = parsed.code().value();
        let metas = DATABASE
            .by_code(&code)
            .ok_or_else(|| PhoneError::UnknownCountryCode(raw.to_string()))?;
        let written = &digits[code.to_string().len()..];
        let stripped = parsed.national().to_string();
        let once = metas[0]
            .national_prefix()
            .and_then(|p| written.strip_prefix(p));
        // The crate's reading first, then one trunk prefix dropped, then the
        // number as written: the first of a possible length that is a
        // number there, else the first of a possible length.
        let mut possible: Vec<&str> = Vec::with_capacity(3);
        for n in [Some(stripped.as_str()), once, Some(written)]
            .into_iter()
            .flatten()
        {
            if !possible.contains(&n) && lengths(&metas).any(|len| len == n.len()) {
                possible.push(n);
            }
        }
        let national = match possible[..] {
            [] if (8..=15).contains(&digits.len()) => {
                return Err(PhoneError::NotPossible(raw.to_string(), code));
            }
            [] => return Err(bad_length()),
            [only] => only,
            [first, ..] => possible
                .iter()
                .find(|n| is_national_number(&metas, n))
                .unwrap_or(&first),
        };
        let e164 = format!("+{code}{national}");
        if !(9..=16).contains(&e164.len()) {
            return Err(PhoneError::BadLength(raw.to_string(), e164.len() - 1));
        }
        Ok((Phone(e164), national != written))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Only through [`Phone::parse`], and only international numbers: there is
/// no default country to read a local one with.
impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        if !raw.trim_start().starts_with('+') {
            return Err(serde::de::Error::custom(format!(
                "`{raw}` is not an international phone number (+ and the country code)"
            )));
        }
        Phone::parse(&raw, &CountryCode::default()).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of number a country has; its "no international dialling"
/// ranges are left out, as libphonenumber leaves them out of its lengths.
fn descriptors(meta: &Metadata) -> impl Iterator<Item = &Descriptor> {
    let d = meta.descriptors();
    [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
}

/// National number lengths that dial from anywhere, in any region of one
/// calling code (the crate leaves the general description's lengths empty).
fn lengths<'a>(metas: &'a [&'a Metadata]) -> impl Iterator<Item = usize> + 'a {
    metas
        .iter()
        .flat_map(|m| descriptors(m))
        .flat_map(|d| d.possible_length())
        .map(|&len| usize::from(len))
}

/// Whether `national` matches the whole general pattern of a region of the
/// calling code (the crate's own check also accepts a match of a prefix).
fn is_national_number(metas: &[&Metadata], national: &str) -> bool {
    metas.iter().any(|m| {
        m.descriptors()
            .general()
            .national_number()
            .find(national)
            .is_some_and(|found| found.start() == 0 && found.end() == national.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn india() -> CountryCode {
        CountryCode::parse("91").unwrap()
    }

    #[test]
    fn local_and_international_forms_meet() {
        let forms = [
            "9876543210",
            "09876 543210",
            "+91 98765-43210",
            "0091 (98765) 43210",
            "+919876543210",
        ];
        for raw in forms {
            assert_eq!(
                Phone::parse(raw, &india()).unwrap().as_str(),
                "+919876543210",
                "{raw}"
            );
        }
    }

    #[test]
    fn other_countries_keep_their_code() {
        let p = Phone::parse("+852 6123 4567", &india()).unwrap();
        assert_eq!(p.as_str(), "+85261234567");
        let us = CountryCode::parse("+1").unwrap();
        assert_eq!(
            Phone::parse("(415) 555-0100", &us).unwrap().as_str(),
            "+14155550100"
        );
    }

    #[test]
    fn junk_is_refused() {
        assert!(matches!(
            Phone::parse("call me", &india()),
            Err(PhoneError::BadCharacters(_))
        ));
        assert!(matches!(
            Phone::parse("12", &india()),
            Err(PhoneError::BadLength(..))
        ));
        assert!(Phone::parse("+1234567890123456", &india()).is_err());
        assert!(Phone::parse("98+76", &india()).is_err());
        assert!(CountryCode::parse("0").is_err());
        assert!(CountryCode::parse("1234").is_err());
    }

    fn cc(code: &str) -> CountryCode {
        CountryCode::parse(code).unwrap()
    }

    fn e164(raw: &str, country: &str) -> String {
        match Phone::parse(raw, &cc(country)) {
            Ok(p) => p.to_string(),
            Err(e) => panic!("`{raw}` with +{country}: {e}"),
        }
    }

    #[test]
    fn trunk_prefixes_are_dropped() {
        assert_eq!(e164("0 98765 43210", "91"), "+919876543210");
        assert_eq!(e164("07700 900123", "44"), "+447700900123");
        assert_eq!(e164("+44 (0) 20 7946 0000", "91"), "+442079460000");
        // An international number is read with its own country's rules, not
        // the default region's (the US trunk prefix is 1).
        assert_eq!(e164("+44 1234 567890", "1"), "+441234567890");
        assert_eq!(e164("+55 11 91234 5678", "1"), "+5511912345678");
        // Once only, and not when the rest is no number: Russia's trunk
        // prefix 8 is also the first digit of its toll-free numbers.
        assert_eq!(e164("8 800 555 35 35", "7"), "+78005553535");
        assert_eq!(e164("+7 800 555 35 35", "1"), "+78005553535");
        assert_eq!(e164("1 (415) 555-0100", "1"), "+14155550100");
    }

    #[test]
    fn international_prefixes_are_the_regions_own() {
        for us_or_canada in ["1", "+1"] {
            assert_eq!(e164("011 44 7700 900123", us_or_canada), "+447700900123");
        }
        assert_eq!(e164("00 44 7700 900123", "91"), "+447700900123");
        assert_eq!(e164("0044 7700 900123", "44"), "+447700900123");
        // From the US, 00 is no international prefix.
        assert!(Phone::parse("00 44 7700 900123", &cc("1")).is_err());
        // From India, 011 is a trunk prefix and a Delhi number.
        assert_eq!(e164("011 2345 6789", "91"), "+911123456789");
    }

    #[test]
    fn a_national_number_starting_like_the_calling_code_keeps_it() {
        // Indian mobiles 91xxxxxxxx: the code is there only when the digits
        // are too many for a national number.
        assert_eq!(e164("9123456789", "91"), "+919123456789");
        assert_eq!(e164("91234 56789", "91"), "+919123456789");
        assert_eq!(e164("919845012345", "91"), "+919845012345");
        assert_eq!(e164("14155550100", "1"), "+14155550100");
    }

    #[test]
    fn numbers_impossible_for_their_country_are_refused() {
        // US numbers have 10 digits, Hong Kong's 5 to 9 or 11, the UK's 7,
        // 9 or 10.
        for (raw, country) in [
            ("+1 415 555 010", "91"),
            ("415 555 010", "1"),
            ("+852 6123 456789", "91"),
            ("+44 7700 9001", "91"),
        ] {
            assert!(
                matches!(
                    Phone::parse(raw, &cc(country)),
                    Err(PhoneError::NotPossible(..))
                ),
                "{raw}"
            );
        }
        // A city number without its area code names no one customer.
        assert!(Phone::parse("2345 678", &cc("91")).is_err());
        assert!(matches!(
            Phone::parse("+999 1234 5678", &india()),
            Err(PhoneError::UnknownCountryCode(_))
        ));
    }

    #[test]
    fn sample_numbers_are_possible_though_not_valid() {
        // What storefronts' test orders carry: no operator has these ranges.
        for (raw, want) in [
            ("(555) 555-5555", "+915555555555"),
            ("555-625-1199", "+915556251199"),
            ("333-333-3333", "+913333333333"),
            ("+91 9999999999", "+919999999999"),
            ("123457890", "+91123457890"),
            ("+85255501043", "+85255501043"),
            ("+61 400 000 000", "+61400000000"),
        ] {
            assert_eq!(e164(raw, "91"), want, "{raw}");
        }
        assert_eq!(e164("(555) 555-5555", "1"), "+15555555555");
    }

    #[test]
    fn calling_codes_map_to_their_main_region() {
        assert_eq!(cc("91").region, Id::IN);
        assert_eq!(cc("+1").region, Id::US);
        assert_eq!(cc("44").region, Id::GB);
        assert_eq!(CountryCode::default(), cc("91"));
        // Unassigned, and non-geographic (freephone).
        assert!(CountryCode::parse("999").is_err());
        assert!(CountryCode::parse("800").is_err());
    }

    #[test]
    fn normalised_numbers_read_back() {
        for raw in [
            "+919876543210",
            "+78005553535",
            "+442079460000",
            "+14155550100",
        ] {
            for country in ["91", "1", "7", "44"] {
                assert_eq!(e164(raw, country), raw, "{raw} with +{country}");
            }
        }
    }

    #[test]
    fn deserialises_only_through_the_parser() {
        let p: Phone = serde_json::from_str(r#""+91 98765-43210""#).unwrap();
        assert_eq!(p.as_str(), "+919876543210");
        assert_eq!(serde_json::to_string(&p).unwrap(), r#""+919876543210""#);
        for bad in [r#""call me""#, r#""9876543210""#, r#""+91 12""#] {
            assert!(serde_json::from_str::<Phone>(bad).is_err(), "{bad}");
        }
    }

    /// What a parse costs (the hub parses one phone per order): run with
    /// `cargo test --release -p poshub-model parse_cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn parse_cost() {
        let cold = std::time::Instant::now();
        let (india, us) = (india(), CountryCode::parse("1").unwrap());
        Phone::parse("98450 12345", &india).unwrap();
        println!("first parse (loads the metadata): {:?}", cold.elapsed());
        let inputs: Vec<String> = (0..100_000u32)
            .map(|i| match i % 4 {
                0 => format!("98450 {:05}", i % 100_000),
                1 => format!("+91 98765-{:05}", i % 100_000),
                2 => format!("+4477009{:05}", i % 100_000),
                _ => format!("(415) 555-{:04}", i % 10_000),
            })
            .collect();
        let start = std::time::Instant::now();
        let mut ok = 0;
        for (i, raw) in inputs.iter().enumerate() {
            let country = if i % 4 == 3 { &us } else { &india };
            ok += usize::from(Phone::parse(raw, country).is_ok());
        }
        let each = start.elapsed() / inputs.len() as u32;
        println!("{ok} of {} parsed, {each:?} per parse", inputs.len());
    }
}
