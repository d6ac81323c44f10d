//! Reference data: Morocco's 12 regions (2015 division), identified by their
//! ISO 3166-2:MA codes `MA-01` to `MA-12`, with Arabic, French and English names.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::common::reject;
use super::error::{DomainError, Rule};

/// One of Morocco's 12 regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// The ISO 3166-2:MA code, e.g. `MA-03`.
    pub code: &'static str,
    /// The Arabic name.
    pub name_ar: &'static str,
    /// The French name (official spelling).
    pub name_fr: &'static str,
    /// The English name.
    pub name_en: &'static str,
}

/// Morocco's 12 regions, in code order.
pub const REGIONS: [Region; 12] = [
    Region {
        code: "MA-01",
        name_ar: "طنجة - تطوان - الحسيمة",
        name_fr: "Tanger-Tétouan-Al Hoceïma",
        name_en: "Tangier-Tetouan-Al Hoceima",
    },
    Region {
        code: "MA-02",
        name_ar: "الشرق",
        name_fr: "Oriental",
        name_en: "Oriental",
    },
    Region {
        code: "MA-03",
        name_ar: "فاس - مكناس",
        name_fr: "Fès-Meknès",
        name_en: "Fez-Meknes",
    },
    Region {
        code: "MA-04",
        name_ar: "الرباط - سلا - القنيطرة",
        name_fr: "Rabat-Salé-Kénitra",
        name_en: "Rabat-Sale-Kenitra",
    },
    Region {
        code: "MA-05",
        name_ar: "بني ملال - خنيفرة",
        name_fr: "Béni Mellal-Khénifra",
        name_en: "Beni Mellal-Khenifra",
    },
    Region {
        code: "MA-06",
        name_ar: "الدار البيضاء - سطات",
        name_fr: "Casablanca-Settat",
        name_en: "Casablanca-Settat",
    },
    Region {
        code: "MA-07",
        name_ar: "مراكش - آسفي",
        name_fr: "Marrakech-Safi",
        name_en: "Marrakesh-Safi",
    },
    Region {
        code: "MA-08",
        name_ar: "درعة - تافيلالت",
        name_fr: "Drâa-Tafilalet",
        name_en: "Draa-Tafilalet",
    },
    Region {
        code: "MA-09",
        name_ar: "سوس - ماسة",
        name_fr: "Souss-Massa",
        name_en: "Souss-Massa",
    },
    Region {
        code: "MA-10",
        name_ar: "كلميم - واد نون",
        name_fr: "Guelmim-Oued Noun",
        name_en: "Guelmim-Oued Noun",
    },
    Region {
        code: "MA-11",
        name_ar: "العيون - الساقية الحمراء",
        name_fr: "Laâyoune-Sakia El Hamra",
        name_en: "Laayoune-Sakia El Hamra",
    },
    Region {
        code: "MA-12",
        name_ar: "الداخلة - وادي الذهب",
        name_fr: "Dakhla-Oued Ed-Dahab",
        name_en: "Dakhla-Oued Ed-Dahab",
    },
];

impl Region {
    /// Finds a region by its exact code (`MA-03`); `None` when unknown.
    pub fn find(code: &str) -> Option<&'static Region> {
        REGIONS.iter().find(|region| region.code == code)
    }

    /// Finds a region by its exact code, or fails with `UnknownRegion` on `field`.
    pub fn by_code(field: &str, code: &str) -> Result<&'static Region, DomainError> {
        match Region::find(code) {
            Some(region) => Ok(region),
            None => reject(field, Rule::UnknownRegion { code: code.into() }),
        }
    }
}

/// A region code as carried in commands and events (`"MA-03"` in JSON/TOML).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegionCode(pub String);

impl RegionCode {
    /// Wraps a code without checking it (see [`RegionCode::validate`]).
    pub fn new(code: impl Into<String>) -> Self {
        RegionCode(code.into())
    }

    /// The code as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The region this code names, if it is one of the 12.
    pub fn region(&self) -> Option<&'static Region> {
        Region::find(&self.0)
    }

    /// Checks that this is one of the 12 codes; the error names `field`.
    pub fn validate(&self, field: &str) -> Result<&'static Region, DomainError> {
        Region::by_code(field, &self.0)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_regions_with_unique_codes_and_all_names() {
        let mut codes: Vec<&str> = REGIONS.iter().map(|r| r.code).collect();
        codes.dedup();
        assert_eq!(codes.len(), 12);
        for region in &REGIONS {
            assert!(!region.name_ar.is_empty());
            assert!(!region.name_fr.is_empty());
            assert!(!region.name_en.is_empty());
        }
    }

    #[test]
    fn lookup_by_code_finds_fes_meknes() {
        let region = RegionCode::new("MA-03").validate("region");
        assert_eq!(region.map(|r| r.name_fr), Ok("Fès-Meknès"));
        assert_eq!(
            Region::find("MA-06").map(|r| r.name_ar),
            Some("الدار البيضاء - سطات")
        );
    }

    #[test]
    fn unknown_code_is_rejected_with_its_field() {
        assert_eq!(
            RegionCode::new("ma-03").validate("place.region"),
            Err(DomainError::validation(
                "place.region",
                Rule::UnknownRegion {
                    code: "ma-03".into()
                }
            ))
        );
        assert_eq!(Region::find("MA-00"), None);
    }

    #[test]
    fn code_serialises_as_a_plain_string() {
        let code = RegionCode::new("MA-04");
        assert_eq!(
            serde_json::to_value(&code).unwrap(),
            serde_json::json!("MA-04")
        );
        assert_eq!(code.to_string(), "MA-04");
        assert_eq!(code.as_str(), "MA-04");
        assert_eq!(code.region().map(|r| r.name_en), Some("Rabat-Sale-Kenitra"));
    }
}
