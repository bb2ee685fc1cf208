//! Whose event it is: with `[[members]]` in `affsync.toml`, each member's events are written
//! with their own key, under their own workflow. An event is a member's by its `member` column
//! (the member's name or one of their emails), else by its line (one of their numbers or
//! emails).

use crate::activity::feed::FeedEvent;
use crate::activity::settings::{phone_key, same_phone, Country, Workflow};

/// A member, as the plan routes events to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRoute {
    pub name: String,
    /// Their lines, as phone keys ([`phone_key`]).
    pub lines: Vec<String>,
    /// Their emails, lowercased.
    pub emails: Vec<String>,
    /// Their own workflow; `None` takes the activity settings'.
    pub workflow: Option<Workflow>,
    /// Where their settings are written (a member's file, or `affsync.toml`), for messages.
    pub file: String,
}

impl MemberRoute {
    /// Whether `line` (a phone number or an email) is one of theirs.
    pub fn owns_line(&self, line: &str, country: Option<Country>) -> bool {
        let line = line.trim();
        if line.contains('@') {
            return self.emails.iter().any(|e| e.eq_ignore_ascii_case(line));
        }
        let k = phone_key(line, country);
        self.lines.iter().any(|n| same_phone(n, &k))
    }

    /// Whether `who` (a feed's `member` cell) names them: their name or one of their emails,
    /// in any case.
    pub fn is_named(&self, who: &str) -> bool {
        let who = who.trim();
        self.name.eq_ignore_ascii_case(who)
            || self.emails.iter().any(|e| e.eq_ignore_ascii_case(who))
    }
}

/// Whose an event is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The member at this index.
    Member(usize),
    /// No member's: why (their names are in it).
    Nobody(String),
}

/// The member an event belongs to: the one its `member` cell names, else the one whose line
/// it is on.
pub fn owner_of(e: &FeedEvent, members: &[MemberRoute], country: Option<Country>) -> Owner {
    let names = || {
        members
            .iter()
            .map(|m| format!("`{}`", m.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(who) = e.member.as_deref().filter(|w| !w.trim().is_empty()) {
        return match members.iter().position(|m| m.is_named(who)) {
            Some(i) => Owner::Member(i),
            None => Owner::Nobody(format!(
                "`member` is `{who}`, who is no member of `affsync.toml` (members: {})",
                names()
            )),
        };
    }
    match &e.line {
        None => Owner::Nobody(format!(
            "the event has no `line` and no `member`, so it is no member's (members: {})",
            names()
        )),
        Some(l) => match members.iter().position(|m| m.owns_line(l, country)) {
            Some(i) => Owner::Member(i),
            None => Owner::Nobody(format!(
                "line `{l}` is no member's line (members: {})",
                names()
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::feed::Kind;

    fn member(name: &str, lines: &[&str], emails: &[&str]) -> MemberRoute {
        MemberRoute {
            name: name.into(),
            lines: lines.iter().map(|l| phone_key(l, None)).collect(),
            emails: emails.iter().map(|e| e.to_lowercase()).collect(),
            workflow: None,
            file: "affsync.toml".into(),
        }
    }

    fn event(line: Option<&str>, member: Option<&str>) -> FeedEvent {
        FeedEvent {
            id: "e1".into(),
            kind: Kind::Call,
            direction: None,
            answered: None,
            at: None,
            duration_s: None,
            line: line.map(str::to_string),
            contact: "+15551234".into(),
            text: None,
            deleted: false,
            member: member.map(str::to_string),
        }
    }

    #[test]
    fn an_event_is_its_members_by_the_member_cell_then_by_its_line() {
        let ms = [
            member("Ada", &["+1 555 0001"], &["ada@firm.example"]),
            member("Grace", &["+1 (555) 0002"], &["grace@firm.example"]),
        ];
        let own = |line, who| owner_of(&event(line, who), &ms, None);
        assert_eq!(own(Some("+15550001"), None), Owner::Member(0));
        assert_eq!(own(Some("+1-555-0002"), None), Owner::Member(1));
        assert_eq!(own(Some("GRACE@firm.example"), None), Owner::Member(1));
        // The cell wins over the line, by name or email, in any case.
        assert_eq!(own(Some("+15550001"), Some("grace")), Owner::Member(1));
        assert_eq!(own(None, Some("Ada@Firm.example")), Owner::Member(0));
        for (line, who, want) in [
            (
                Some("+15550003"),
                None,
                "line `+15550003` is no member's line (members: `Ada`, `Grace`)",
            ),
            (None, None, "no `line` and no `member`"),
            (
                Some("+15550001"),
                Some("Linus"),
                "`member` is `Linus`, who is no member",
            ),
        ] {
            match own(line, who) {
                Owner::Nobody(why) => assert!(why.contains(want), "{why}"),
                o => panic!("{line:?} {who:?}: {o:?}"),
            }
        }
    }
}
