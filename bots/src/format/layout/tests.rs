use super::*;

fn para(t: &str) -> Block {
    Block::Paragraph(vec![Span::plain(t)])
}

#[test]
fn split_at_block_boundaries() {
    let blocks = vec![
        para(&"a".repeat(40)),
        para(&"b".repeat(40)),
        para(&"c".repeat(40)),
    ];
    let parts = split(&PlainText, blocks, 90);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].len(), 2);
    for p in &parts {
        assert!(doc_len(&PlainText, p) <= 90);
    }
}

#[test]
fn long_paragraph_splits_on_sentences_without_cutting_words() {
    let text = "One two three four. ".repeat(30);
    let parts = split(&PlainText, vec![para(&text)], 100);
    assert!(parts.len() > 5);
    for p in &parts {
        let t = p[0].plain_text();
        assert!(doc_len(&PlainText, p) <= 100);
        assert!(t.ends_with("four."), "{t:?}");
        assert!(t.starts_with("One"), "{t:?}");
    }
}

#[test]
fn links_are_not_cut() {
    let spans = vec![
        Span::plain("x ".repeat(30)),
        Span {
            text: "a link with several words".into(),
            style: Style::PLAIN,
            link: Some("https://l.example/".into()),
        },
        Span::plain(" tail"),
    ];
    let parts = split(&PlainText, vec![Block::Paragraph(spans)], 70);
    for p in &parts {
        for s in p[0].spans().unwrap_or(&[]) {
            if s.link.is_some() {
                assert_eq!(s.text, "a link with several words");
            }
        }
    }
}

#[test]
fn truncate_ends_with_ellipsis_on_word() {
    let out = truncate(
        &PlainText,
        vec![para(
            "alpha beta gamma delta epsilon zeta eta theta iota kappa",
        )],
        45,
    );
    let t = out[0].plain_text();
    assert!(t.ends_with('…'), "{t}");
    assert!(utf16_len(&t) <= 45);
    assert!(!t.contains("thet…"));
}

#[test]
fn truncate_prefers_sentence_end() {
    let out = truncate(
        &PlainText,
        vec![para(
            "First sentence is here. Second sentence goes on and on and on",
        )],
        50,
    );
    assert_eq!(out[0].plain_text(), "First sentence is here. …");
}

#[test]
fn giant_word_is_chunked() {
    let w = "😀".repeat(3000);
    let parts = split(&PlainText, vec![para(&w)], 1000);
    assert!(parts.len() >= 6);
    let total: String = parts.iter().map(|p| p[0].plain_text()).collect();
    assert_eq!(total, w);
}

#[test]
fn keep_tail() {
    let tail = Block::Paragraph(vec![Span {
        text: "Read more".into(),
        style: Style::PLAIN,
        link: Some("https://x.example/".into()),
    }]);
    let out = truncate_keep_tail(
        &PlainText,
        vec![para(&"word ".repeat(100)), tail.clone()],
        120,
    );
    assert_eq!(out.last(), Some(&tail));
    assert!(doc_len(&PlainText, &out) <= 120);
}
