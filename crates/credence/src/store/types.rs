//! The closed sets of values the store keeps as text (roles, statuses, outcomes), as enums at
//! the store boundary: a row with a value outside its set fails to load instead of flowing on
//! as a string. Each compares with its text (`status == "transferred"`) and shows as it.

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// As stored.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("'{s}' is not a {}", stringify!($name)))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

text_enum!(
    /// A role a person holds (schema: `role_grant.role`).
    Role {
        AoStaff = "ao_staff",
        Eqa = "eqa",
        CentreAdmin = "centre_admin",
        Assessor = "assessor",
        Iqa = "iqa",
        Learner = "learner",
    }
);

text_enum!(
    /// Where a registration stands.
    RegistrationStatus {
        Registered = "registered",
        Transferred = "transferred",
        OnBreak = "on_break",
        Withdrawn = "withdrawn",
    }
);

text_enum!(
    /// Where a transfer request stands.
    TransferStatus {
        Requested = "requested",
        Approved = "approved",
        Refused = "refused",
    }
);

text_enum!(
    /// A catalogue version's status.
    VersionStatus {
        Draft = "draft",
        Published = "published",
    }
);

text_enum!(
    /// An assessor's decision on a criterion.
    Outcome {
        Met = "met",
        NotYetMet = "not_yet_met",
    }
);

text_enum!(
    /// Who signed a unit's declaration.
    SignerRole {
        Assessor = "assessor",
        Learner = "learner",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips_and_strangers_are_refused() {
        for r in Role::ALL {
            assert_eq!(Role::try_from(r.as_str().to_string()), Ok(*r));
        }
        assert_eq!(RegistrationStatus::Transferred, "transferred");
        assert!(Role::try_from("admin".to_string()).is_err());
        assert!(Outcome::try_from("met ".to_string()).is_err());
    }
}
