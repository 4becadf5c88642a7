use super::*;

fn err(html: &str) -> String {
    match parse_telegram_html(html) {
        Err(e) => e,
        Ok(p) => panic!("accepted {html:?}: {p:?}"),
    }
}

#[test]
fn tdlib_error_texts() {
    assert_eq!(
        err("🏟 🏟&lt;<abacaba"),
        "Unclosed start tag at byte offset 13"
    );
    assert_eq!(
        err("🏟 🏟&lt;<abac aba>"),
        "Unsupported start tag \"abac\" at byte offset 13"
    );
    assert_eq!(
        err("🏟 🏟&lt;<abac>"),
        "Unsupported start tag \"abac\" at byte offset 13"
    );
    assert_eq!(
        err("🏟 🏟&lt;<i   =aba>"),
        "Empty attribute name in the tag \"i\" at byte offset 13"
    );
    assert_eq!(
        err("🏟 🏟&lt;<i    aba>"),
        "Can't find end tag corresponding to start tag \"i\""
    );
    assert_eq!(
        err("🏟 🏟&lt;<i    aba  =  "),
        "Unclosed start tag \"i\" at byte offset 13"
    );
    assert_eq!(
        err("🏟 🏟&lt;<i    aba  =  190azAz-.,"),
        "Unexpected end of name token at byte offset 27"
    );
    assert_eq!(
        err("🏟 🏟&lt;<i    aba  =  \"&lt;&gt;&quot;>"),
        "Unclosed start tag at byte offset 13"
    );
    assert_eq!(err("🏟 🏟&lt;</"), "Unexpected end tag at byte offset 13");
    assert_eq!(
        err("🏟 🏟&lt;<b></b></"),
        "Unexpected end tag at byte offset 20"
    );
    assert_eq!(
        err("🏟 🏟&lt;<i>a</i   "),
        "Unclosed end tag at byte offset 17"
    );
    assert_eq!(
        err("🏟 🏟&lt;<i>a</em   >"),
        "Unmatched end tag at byte offset 17, expected \"</i>\", found \"</em>\""
    );
    assert_eq!(
        err("<div>x</div>"),
        "Unsupported start tag \"div\" at byte offset 0"
    );
    assert_eq!(
        err("<span>x</span>"),
        "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0"
    );
    assert_eq!(
        err("<tg-emoji emoji-id=\"x\">y</tg-emoji>"),
        "Invalid custom emoji identifier specified"
    );
    assert!(err("&#xDFDF;").starts_with("Text contains invalid Unicode characters"));
}

#[test]
fn tdlib_accepted_forms() {
    let p = parse_telegram_html("🏟 🏟<i>🏟 &lt🏟</i>").unwrap_or_default();
    assert_eq!(p.text, "🏟 🏟🏟 <🏟");
    assert_eq!(
        (
            p.entities[0].kind,
            p.entities[0].offset,
            p.entities[0].length
        ),
        ("italic", 5, 6)
    );
    let p =
        parse_telegram_html("<blockquote   expandable>a&lt;<pre  >b;</></>").unwrap_or_default();
    assert_eq!(p.text, "a<b;");
    assert!(p.entities.iter().any(|e| e.kind == "expandable_blockquote"));
    let p = parse_telegram_html("<pre><code class=\"language-rust\">x</code></pre>")
        .unwrap_or_default();
    assert_eq!(p.text, "x");
    let p = parse_telegram_html("<span class=\"tg-spoiler\">s</span><tg-spoiler>t</tg-spoiler>")
        .unwrap_or_default();
    assert_eq!(p.entities.len(), 2);
}

#[test]
fn strict_additions() {
    assert!(err("AT&T").contains("strict"));
    assert!(err("a&nbsp;b").contains("Unsupported HTML entity"));
    assert!(err("<code><b>x</b></code>").contains("inside \"code\""));
    assert!(err("<blockquote><blockquote>x</blockquote></blockquote>").contains("nested"));
    assert!(err("<a>x</a>").contains("href"));
    assert!(err("<a href=\"javascript:alert(1)\">x</a>").contains("href"));
}

#[test]
fn entity_count_and_size() {
    let many = "<b>x</b> ".repeat(101);
    assert!(err(&many).contains("101 formatting entities"));
    assert!(parse_telegram_html(&"<b>x</b> ".repeat(100)).is_ok());
    let url = format!("https://x.example/{}", "a".repeat(200));
    let heavy = format!("<a href=\"{url}\">x</a> ").repeat(60);
    assert_eq!(
        telegram_text(&heavy, Some("HTML"), 4096).map_err(|e| e.description),
        Err("Bad Request: ENTITIES_TOO_LONG".into())
    );
}

#[test]
fn lengths_and_texts() {
    let ok = telegram_text("<b>😀</b>", Some("HTML"), 4096);
    assert_eq!(ok, Ok(2));
    let long = "😀".repeat(2049);
    assert_eq!(
        telegram_text(&long, None, 4096).map_err(|e| e.description),
        Err("Bad Request: message is too long".into())
    );
    assert_eq!(
        telegram_text(&"a".repeat(1025), None, 1024).map_err(|e| e.description),
        Err("Bad Request: message caption is too long".into())
    );
    assert_eq!(
        telegram_text("<b> </b>", Some("HTML"), 4096).map_err(|e| e.description),
        Err("Bad Request: message text is empty".into())
    );
    assert_eq!(telegram_text("", None, 1024), Ok(0));
    assert_eq!(
        telegram_text("<p>x</p>", Some("HTML"), 4096).map_err(|e| e.description),
        Err(
            "Bad Request: can't parse entities: Unsupported start tag \"p\" at byte offset 0"
                .into()
        )
    );
    // Escaped markup is counted after decoding.
    assert_eq!(
        telegram_text(&"&lt;".repeat(4096), Some("HTML"), 4096),
        Ok(4096)
    );
}

#[test]
fn telegram_message_checks() {
    let ok = json!({"text": "<b>x</b>", "parse_mode": "HTML", "reply_markup": {"inline_keyboard": [[{"text": "Read", "url": "https://x.example/"}]]}});
    assert!(telegram_message("SendMessage", &ok).is_ok());
    let bad = json!({"text": "x", "reply_markup": {"inline_keyboard": [[{"text": "Read", "url": "javascript:x"}]]}});
    assert_eq!(
        telegram_message("sendMessage", &bad).map_err(|e| e.description),
        Err("Bad Request: BUTTON_URL_INVALID".into())
    );
    let photo = json!({"caption": "a".repeat(1025)});
    assert!(telegram_message("sendPhoto", &photo).is_err());
    let photo = json!({"photo": "https://i.example/x.jpg", "caption": "a".repeat(1025)});
    assert_eq!(
        telegram_message("sendPhoto", &photo).map_err(|e| e.description),
        Err("Bad Request: message caption is too long".into())
    );
    let audio = json!({"caption": "<b>x</b>", "parse_mode": "HTML"});
    assert_eq!(
        telegram_message("SendAudio", &audio).map_err(|e| e.description),
        Err("Bad Request: there is no audio in the request".into())
    );
    let audio =
        json!({"audio": "https://a.example/x.mp3", "caption": "<b>x</b>", "parse_mode": "HTML"});
    assert!(telegram_message("sendAudio", &audio).is_ok());
    let audio = json!({"audio": "https://a.example/x.mp3", "caption": "a".repeat(1025)});
    assert_eq!(
        telegram_message("sendaudio", &audio).map_err(|e| e.description),
        Err("Bad Request: message caption is too long".into())
    );
}
