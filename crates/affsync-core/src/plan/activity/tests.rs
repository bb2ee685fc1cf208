use std::path::Path;

use super::*;
use crate::activity::feed::read_jsonl;
use crate::activity::settings::Workflow;
use crate::matcher::Kind as MKind;

fn settings(extra: &str) -> Settings {
    Settings::parse(
        Path::new("activity.toml"),
        &format!("connected_numbers = [\"+15550001\"]\n{extra}"),
    )
    .unwrap()
}

fn us() -> Option<Country> {
    Some("US".parse().unwrap())
}

fn directory() -> Directory {
    directory_in(None)
}

fn directory_in(country: Option<Country>) -> Directory {
    let mut ada = Candidate::new(MKind::Person, "101", "");
    ada.first_name = Some("Ada".into());
    ada.last_name = Some("Lovelace".into());
    ada.emails = vec!["ada@analytical.io".into()];
    ada.fields
        .insert("Phone".into(), vec!["+1 (555) 123-4567".into()]);
    let mut grace = Candidate::new(MKind::Person, "102", "");
    grace.first_name = Some("Grace".into());
    grace.last_name = Some("Hopper".into());
    let mut grace2 = grace.clone();
    grace2.id = "106".into();
    Directory::from_candidates(&[ada, grace, grace2], "Phone", country)
}

fn now() -> DateTime<Utc> {
    "2026-11-21T12:00:00Z".parse().unwrap()
}

fn one(line: &str, extra: &str) -> Plan {
    plan(
        &read_jsonl(line),
        &settings(extra),
        &directory(),
        &BTreeMap::new(),
        now(),
    )
}

#[test]
fn contacts_are_found_by_phone_email_or_name() {
    let cases = [
        ("5551234567", Lookup::Found(101)),
        ("+1 555 123 4567", Lookup::Found(101)),
        ("ADA@analytical.io", Lookup::Found(101)),
        ("ada  lovelace", Lookup::Found(101)),
        ("Grace Hopper", Lookup::Ambiguous(vec![102, 106])),
        ("+15559999999", Lookup::NotFound),
        ("Alan Turing", Lookup::NotFound),
    ];
    // Numbers written without a country code are read in the settings' `default_country`.
    let d = directory_in(us());
    for (contact, want) in cases {
        assert_eq!(
            d.lookup(&ContactKey::of_in(contact, us())),
            want,
            "{contact}"
        );
    }
}

#[test]
fn numbers_are_compared_as_e164_never_by_their_last_digits() {
    let person = |id: &str, phone: &str| {
        let mut c = Candidate::new(MKind::Person, id, "");
        c.first_name = Some(format!("P{id}"));
        c.fields.insert("Phone".into(), vec![phone.into()]);
        c
    };
    let gb: Option<Country> = Some("GB".parse().unwrap());
    let cands = [
        person("1", "+1 207 946 0100"),
        person("2", "+44 20 7946 0100"),
    ];
    for (contact, country, want) in [
        ("+44 20 7946 0100", None, Lookup::Found(2)),
        ("+1 (207) 946-0100", None, Lookup::Found(1)),
        ("207 946 0100", us(), Lookup::Found(1)),
        ("020 7946 0100", gb, Lookup::Found(2)),
        // Without a country, a number with none is compared by all its digits: it finds no
        // one rather than the wrong one.
        ("2079460100", None, Lookup::NotFound),
    ] {
        let d = Directory::from_candidates(&cands, "Phone", country);
        assert_eq!(
            d.lookup(&ContactKey::of_in(contact, country)),
            want,
            "{contact} in {country:?}"
        );
    }
    let bad = Settings::parse(Path::new("a.toml"), "default_country = \"Atlantis\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        bad.contains("line 1") && bad.contains("not a country code"),
        "{bad}"
    );
}

#[test]
fn each_kind_goes_where_the_workflow_says() {
    let at = r#""at":"2026-11-20T10:00:00Z","line":"+15550001","contact":"ada@analytical.io""#;
    // (event, extra settings, the step planned or the skip kind)
    let cases: Vec<(String, &str, Result<&str, SkipKind>)> = vec![
        (
            format!(r#"{{"id":"1","kind":"call","direction":"outbound","answered":true,{at}}}"#),
            "",
            Ok("call_logged"),
        ),
        (
            format!(r#"{{"id":"1","kind":"call","direction":"outbound","answered":true,{at}}}"#),
            "[workflow]\noutgoing_answered_calls = \"disabled\"",
            Err(SkipKind::Disabled),
        ),
        (
            format!(r#"{{"id":"1","kind":"call","direction":"outbound","answered":false,{at}}}"#),
            "[workflow]\noutgoing_answered_calls = \"disabled\"",
            Ok("call_logged"),
        ),
        (
            format!(r#"{{"id":"1","kind":"call","direction":"outbound","answered":false,{at}}}"#),
            "[workflow]\noutgoing_unanswered_calls = \"disabled\"",
            Err(SkipKind::Disabled),
        ),
        (
            format!(r#"{{"id":"1","kind":"call","direction":"inbound","duration_s":30,{at}}}"#),
            "[workflow]\nincoming_answered_calls = \"disabled\"",
            Err(SkipKind::Disabled),
        ),
        (
            format!(r#"{{"id":"1","kind":"call","direction":"inbound",{at}}}"#),
            "[workflow]\nincoming_unanswered_calls = \"disabled\"",
            Err(SkipKind::Disabled),
        ),
        (
            format!(r#"{{"id":"1","kind":"voicemail",{at}}}"#),
            "[workflow]\nvoicemail = \"disabled\"",
            Err(SkipKind::Disabled),
        ),
        (
            format!(r#"{{"id":"1","kind":"voicemail",{at}}}"#),
            "",
            Ok("call_logged"),
        ),
        (
            format!(r#"{{"id":"1","kind":"sms","direction":"inbound","text":"hi",{at}}}"#),
            "",
            Ok("note_created"),
        ),
        (
            format!(r#"{{"id":"1","kind":"sms","direction":"inbound","text":"hi",{at}}}"#),
            "[workflow]\nincoming_sms = \"disabled\"",
            Err(SkipKind::Disabled),
        ),
        (
            format!(r#"{{"id":"1","kind":"sms","direction":"outbound","text":"hi",{at}}}"#),
            "[workflow]\noutgoing_sms = \"disabled\"",
            Err(SkipKind::Disabled),
        ),
        (
            format!(r#"{{"id":"1","kind":"note","text":"met",{at}}}"#),
            "[workflow]\nincoming_sms = \"disabled\"",
            Ok("note_created"),
        ),
        (
            format!(
                r#"{{"id":"1","kind":"call","direction":"outbound"{}}}"#,
                r#","line":"+15550001","contact":"ada@analytical.io""#
            ),
            "",
            Err(SkipKind::Unreadable),
        ),
        (
            format!(r#"{{"id":"1","kind":"sms","direction":"outbound",{at}}}"#),
            "",
            Err(SkipKind::Unreadable),
        ),
    ];
    for (line, extra, want) in cases {
        let p = one(&line, extra);
        let got = match (p.ops.first(), p.skipped.first()) {
            (Some(op), None) => Ok(op.action.journal().as_str()),
            (None, Some(s)) => Err(s.kind),
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(got, want, "{line} with {extra:?}");
    }
}

#[test]
fn calls_carry_date_direction_and_words() {
    let p = one(
        r#"{"id":"c","kind":"call","direction":"inbound","answered":true,"duration_s":125,"at":"2026-11-20T10:00:00Z","line":"+1 555 0001","contact":"+15551234567"}"#,
        "",
    );
    assert_eq!(p.ops[0].target, Target::Person(101));
    assert_eq!(
        p.ops[0].action,
        Action::LogCall {
            date: "2026-11-20T10:00:00Z".parse().unwrap(),
            direction: RECEIVED,
            content: "Incoming call, answered, 2 min 5 s".into()
        }
    );
}

#[test]
fn only_connected_lines_are_logged() {
    for (line, logged) in [
        (r#","line":"+15550001""#, true),
        (r#","line":"+15550002""#, false),
        ("", false),
    ] {
        let p = one(
            &format!(r#"{{"id":"n","kind":"note","text":"x","contact":"Ada Lovelace"{line}}}"#),
            "",
        );
        assert_eq!(p.ops.len(), usize::from(logged), "{line}");
        if !logged {
            assert_eq!(p.skipped[0].kind, SkipKind::NotConnected);
        }
    }
    let none = plan(
        &read_jsonl(
            r#"{"id":"n","kind":"note","text":"x","contact":"Ada Lovelace","line":"+15550001"}"#,
        ),
        &Settings::parse(Path::new("a.toml"), "").unwrap(),
        &directory(),
        &BTreeMap::new(),
        now(),
    );
    assert!(
        none.ops.is_empty(),
        "an empty `connected_numbers` logs nothing"
    );
}

#[test]
fn unknown_contacts_are_skipped_or_created_once() {
    let feed = r#"{"id":"a","kind":"note","text":"x","contact":"+1 555 777 0000","line":"+15550001"}
{"id":"b","kind":"note","text":"y","contact":"15557770000","line":"+15550001"}
{"id":"c","kind":"note","text":"z","contact":"Grace Hopper","line":"+15550001"}"#;
    let p = plan(
        &read_jsonl(feed),
        &settings(""),
        &directory(),
        &BTreeMap::new(),
        now(),
    );
    assert!(p.ops.is_empty());
    assert_eq!(p.skipped.len(), 3);
    assert_eq!(p.skipped[0].kind, SkipKind::UnknownContact);
    assert!(
        p.skipped[0].reason.contains("`create_contacts` is off"),
        "{}",
        p.skipped[0].reason
    );
    assert_eq!(p.skipped[2].kind, SkipKind::AmbiguousContact);

    let p = plan(
        &read_jsonl(feed),
        &settings("create_contacts = true"),
        &directory(),
        &BTreeMap::new(),
        now(),
    );
    assert_eq!(
        p.new_contacts.len(),
        1,
        "one person for both spellings of the number"
    );
    assert_eq!(p.new_contacts[0].phone.as_deref(), Some("+1 555 777 0000"));
    assert_eq!(p.ops.len(), 2);
    assert!(p.ops.iter().all(|o| o.target == Target::New(0)));
    assert_eq!(
        p.skipped[0].kind,
        SkipKind::AmbiguousContact,
        "never created when ambiguous"
    );
}

#[test]
fn logged_events_update_delete_or_stay() {
    let feed = |text: &str, deleted: bool| {
        read_jsonl(&format!(
            r#"{{"id":"n","kind":"note","text":"{text}","contact":"Ada Lovelace","line":"+15550001","deleted":{deleted}}}"#
        ))
    };
    let first = plan(
        &feed("v1", false),
        &settings(""),
        &directory(),
        &BTreeMap::new(),
        now(),
    );
    let logged: BTreeMap<String, Logged> = [(
        "n".to_string(),
        Logged {
            object: Object::Note,
            affinity_id: 900,
            person_id: 101,
            hash: first.ops[0].hash.clone(),
            deleted: false,
            member: None,
        },
    )]
    .into();
    let again = plan(
        &feed("v1", false),
        &settings(""),
        &directory(),
        &logged,
        now(),
    );
    assert!(again.ops.is_empty());
    assert_eq!(again.unchanged, 1);
    let edited = plan(
        &feed("v2", false),
        &settings(""),
        &directory(),
        &logged,
        now(),
    );
    assert_eq!(
        edited.ops[0].action,
        Action::UpdateNote {
            note_id: 900,
            content: "v2".into()
        }
    );
    let deleted = plan(
        &feed("v2", true),
        &settings(""),
        &directory(),
        &logged,
        now(),
    );
    assert_eq!(deleted.ops[0].action, Action::DeleteNote { note_id: 900 });
    // An edit appended as a later row with the same id wins over the first row.
    let mut rows = feed("v1", false);
    rows.extend(feed("v3", false));
    let appended = plan(&rows, &settings(""), &directory(), &logged, now());
    assert_eq!(appended.ops.len(), 1);
    assert_eq!(
        appended.ops[0].action,
        Action::UpdateNote {
            note_id: 900,
            content: "v3".into()
        }
    );
    // Deleted before it was ever logged: nothing to do.
    let never = plan(
        &feed("v1", true),
        &settings(""),
        &directory(),
        &BTreeMap::new(),
        now(),
    );
    assert!(never.ops.is_empty());
}

#[test]
fn future_note_dates_are_not_sent() {
    // Within a day ahead (a clock a little fast): the note is made without its date.
    let p = one(
        r#"{"id":"n","kind":"note","text":"x","contact":"Ada Lovelace","line":"+15550001","at":"2026-11-22T00:00:00Z"}"#,
        "",
    );
    assert_eq!(
        p.ops[0].action,
        Action::CreateNote {
            content: "x".into(),
            created_at: None
        }
    );
}

#[test]
fn impossible_durations_and_times_are_skipped_with_the_reason() {
    let line = |extra: &str| {
        format!(
            r#"{{"id":"c1","kind":"call","direction":"outbound","answered":true,"line":"+15550001","contact":"ada@analytical.io"{extra}}}"#
        )
    };
    for (extra, why) in [
        (
            r#","duration_s":"1e30","at":"2026-11-20T10:00:00Z""#,
            "duration_s",
        ),
        (
            r#","duration_s":86401,"at":"2026-11-20T10:00:00Z""#,
            "duration_s",
        ),
        (r#","duration_s":60,"at":"0001-01-01""#, "`at`"),
        (r#","duration_s":60,"at":"2026-11-23T12:00:00Z""#, "`at`"),
    ] {
        let p = one(&line(extra), "");
        assert!(p.ops.is_empty(), "{extra}: {p:?}");
        assert_eq!(p.skipped.len(), 1, "{extra}");
        assert_eq!(p.skipped[0].kind, SkipKind::Unreadable);
        assert!(
            p.skipped[0].reason.contains(why),
            "{extra}: {}",
            p.skipped[0].reason
        );
    }
    // The edges are kept: a day-long call, an event dated a day ahead.
    let p = one(
        &line(r#","duration_s":86400,"at":"2026-11-22T11:00:00Z""#),
        "",
    );
    assert_eq!(p.ops.len(), 1, "{p:?}");
}

#[test]
fn members_events_are_routed_to_them_under_their_own_workflow() {
    let member = |name: &str, line: &str, workflow: Option<Workflow>| MemberRoute {
        name: name.into(),
        lines: vec![phone_key(line, None)],
        emails: vec![],
        workflow,
        file: format!("members/{name}.toml"),
    };
    let no_sms = Workflow {
        incoming_sms: SmsAs::Disabled,
        ..Workflow::default()
    };
    let members = [
        member("ada", "+15550011", None),
        member("grace", "+15550022", Some(no_sms)),
    ];
    let feed = read_jsonl(
        r#"{"id":"a1","kind":"sms","direction":"inbound","at":"2026-11-20T10:00:00Z","line":"+15550011","contact":"+15551234567","text":"hi"}
{"id":"g1","kind":"sms","direction":"inbound","at":"2026-11-20T10:00:00Z","line":"+15550022","contact":"+15551234567","text":"hi"}
{"id":"g2","kind":"call","direction":"outbound","answered":true,"at":"2026-11-20T10:00:00Z","duration_s":60,"line":"+15550022","contact":"+15551234567"}
{"id":"n1","kind":"call","direction":"outbound","answered":true,"at":"2026-11-20T10:00:00Z","duration_s":60,"line":"+15550001","contact":"+15551234567"}
{"id":"m1","kind":"call","direction":"outbound","answered":true,"at":"2026-11-20T10:00:00Z","duration_s":60,"line":"+15550001","contact":"+15551234567","member":"Ada"}"#,
    );
    let run = |extra: &str| {
        plan_for_members(
            &feed,
            &settings(extra),
            &members,
            &directory(),
            &BTreeMap::new(),
            now(),
        )
    };
    let p = run("");
    let ops: Vec<(&str, Option<usize>)> = p
        .ops
        .iter()
        .map(|o| (o.feed_id.as_str(), o.member))
        .collect();
    // Ada's SMS is hers; Grace's call is hers, her SMS is off in her own workflow; the
    // `member` cell wins over a line that is no member's.
    assert_eq!(ops, [("a1", Some(0)), ("g2", Some(1)), ("m1", Some(0))]);
    let why: Vec<(&str, SkipKind)> = p
        .skipped
        .iter()
        .map(|s| (s.feed_id.as_deref().unwrap(), s.kind))
        .collect();
    assert_eq!(why, [("g1", SkipKind::Disabled), ("n1", SkipKind::Unowned)]);
    assert!(
        p.skipped[0].reason.contains("members/grace.toml"),
        "{:?}",
        p.skipped[0]
    );
    assert!(
        p.skipped[1].reason.contains("no member's line")
            && p.skipped[1].reason.contains("`unowned`"),
        "{:?}",
        p.skipped[1]
    );
    // With `unowned = "default_key"`, the event on a connected line goes to the default key.
    let p = run("unowned = \"default_key\"\n");
    assert!(p
        .ops
        .iter()
        .any(|o| o.feed_id == "n1" && o.member.is_none()));
    assert!(p.skipped.iter().all(|s| s.kind != SkipKind::Unowned));
    // Without members, routing is as before.
    let p = plan(&feed, &settings(""), &directory(), &BTreeMap::new(), now());
    assert!(p.ops.iter().all(|o| o.member.is_none()));
    assert_eq!(p.ops.len(), 2, "{:?}", p.ops);
}
