//! Regression tests for panics on outside text (issue #11): byte offsets
//! that fall inside a multi-byte character.

use super::super::*;
use super::corpus::fixture;
use url::Url;

fn base() -> Url {
    Url::parse("https://feeds.example/feed.xml").expect("url")
}

#[test]
fn a_multibyte_character_at_the_64k_head_cap_does_not_panic() {
    let bytes = fixture("feeds/regress-64k-multibyte-head.xml");
    // The shape of the report: ’ at bytes 65,535–65,537, no `<item`.
    assert_eq!(&bytes[65_535..65_538], "’".as_bytes());
    let doc = parse_document(&bytes, None, &base()).expect("parses");
    assert_eq!(doc.items.len(), 1);
    assert_eq!(doc.items[0].post.title, "Only entry");
}

#[test]
fn every_offset_around_the_head_cap_is_safe() {
    for pad in 0..4 {
        let mut doc = String::from("<rss version=\"2.0\"><channel><title>t</title><description>");
        doc.extend(std::iter::repeat_n('a', pad));
        while doc.len() < 65_600 {
            doc.push('’');
        }
        doc.push_str("</description><sy:updatePeriod>hourly</sy:updatePeriod></channel></rss>");
        let out = std::panic::catch_unwind(|| parse_document(doc.as_bytes(), None, &base()));
        assert!(out.is_ok(), "panicked with pad {pad}");
    }
}
