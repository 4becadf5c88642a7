//! Which images inside an article body are worth showing: inline
//! thumbnails (`?w=100&h=62`, `-150x150.jpg`, `width="80"`) and feed ads
//! are not; and two URLs of one picture in different sizes are the same
//! image (so the body never repeats the post's photo).

use url::Url;

/// Images given as `tg-file:<file id>` are a photo Telegram already has
/// (an editor's `/post` of a photo): Telegram targets send it by its id;
/// other platforms cannot show it and leave it out.
pub const TELEGRAM_FILE: &str = "tg-file:";

/// The file id of a `tg-file:` image.
pub fn telegram_file(image: &str) -> Option<&str> {
    image.trim().strip_prefix(TELEGRAM_FILE).filter(|id| {
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

/// The image as a web URL (not a Telegram file).
pub(crate) fn web_image(image: Option<&String>) -> Option<&String> {
    image.filter(|i| telegram_file(i).is_none())
}

/// Images at most this wide or high (by their attributes or their URL's
/// size parameters) are thumbnails or icons, not article pictures.
const THUMB_MAX: u32 = 160;

/// Hosts and paths of feed advertising and share "flare" images.
const AD_MARKERS: &[&str] = &[
    "feeds.feedburner.com/~ff/",
    "feeds.feedburner.com/~a/",
    "feedproxy.google.com/~ff/",
    "feedproxy.google.com/~a/",
    "feedads.",
    "pagead",
    "/adserver",
    "/ads/",
    "adsrv",
    "ad.doubleclick",
    "buysellads",
    "gravatar.com/avatar",
];

fn dim(v: Option<&str>) -> Option<u32> {
    let v = v?.trim().trim_end_matches("px").trim();
    v.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n.min(f64::from(u32::MAX)) as u32)
}

/// The size a URL asks for: `?w=100&h=62`, `?resize=100,62`,
/// `?fit=100,62`, `?width=`/`?height=`, or a WordPress `-100x62.jpg`
/// file name.
fn url_size(src: &str) -> (Option<u32>, Option<u32>) {
    let (mut w, mut h) = (None, None);
    if let Ok(u) = Url::parse(src) {
        for (k, v) in u.query_pairs() {
            let num = |s: &str| s.trim().parse::<u32>().ok();
            match k.as_ref() {
                "w" | "width" => w = w.or(num(&v)),
                "h" | "height" => h = h.or(num(&v)),
                "resize" | "fit" => {
                    let mut it = v.split(',');
                    w = w.or(it.next().and_then(num));
                    h = h.or(it.next().and_then(num));
                }
                _ => {}
            }
        }
        if w.is_none()
            && h.is_none()
            && let Some(name) = u.path_segments().and_then(|mut s| s.next_back())
            && let stem = name.rsplit_once('.').map_or(name, |(stem, _ext)| stem)
            && let Some((_, size)) = stem.rsplit_once(['-', '_'])
            && let Some((a, b)) = size.split_once('x')
            && let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>())
        {
            w = Some(a);
            h = Some(b);
        }
    }
    (w, h)
}

/// Is this `<img>` (its `src`, lowercase, and its `width`/`height`
/// attributes) an inline thumbnail, an icon or a feed ad rather than a
/// picture of the article?
pub(crate) fn is_noise(src_lower: &str, width: Option<&str>, height: Option<&str>) -> bool {
    if AD_MARKERS.iter().any(|m| src_lower.contains(m)) {
        return true;
    }
    let small = |d: Option<u32>| d.is_some_and(|n| n > 0 && n <= THUMB_MAX);
    let (w, h) = (dim(width), dim(height));
    if small(w) && (h.is_none() || small(h)) || small(h) && w.is_none() {
        return true;
    }
    let (uw, uh) = url_size(src_lower);
    small(uw) && (uh.is_none() || small(uh)) || small(uh) && uw.is_none()
}

/// The picture a URL shows, whatever its size: no query, no fragment, no
/// `-WxH` or `-scaled` suffix, lowercase.
fn picture_key(src: &str) -> String {
    let no_query = src
        .split(['?', '#'])
        .next()
        .unwrap_or(src)
        .to_ascii_lowercase();
    let no_scheme = no_query
        .strip_prefix("https://")
        .or_else(|| no_query.strip_prefix("http://"))
        .unwrap_or(&no_query)
        .to_string();
    // Jetpack's image CDN (Photon) serves `site/path` as
    // `i0.wp.com/site/path` (i0–i3): the same picture.
    let no_scheme = match no_scheme.split_once(".wp.com/") {
        Some((cdn, rest))
            if cdn.len() == 2
                && cdn.starts_with('i')
                && cdn[1..].chars().all(|c| c.is_ascii_digit()) =>
        {
            rest.to_string()
        }
        _ => no_scheme,
    };
    let Some((dir, name)) = no_scheme.rsplit_once('/') else {
        return no_scheme;
    };
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return no_scheme;
    };
    let mut stem = stem.strip_suffix("-scaled").unwrap_or(stem);
    if let Some((base, size)) = stem.rsplit_once('-')
        && let Some((a, b)) = size.split_once('x')
        && !a.is_empty()
        && !b.is_empty()
        && a.chars().chain(b.chars()).all(|c| c.is_ascii_digit())
    {
        stem = base;
    }
    format!("{dir}/{stem}.{ext}")
}

/// Are these two URLs the same picture (possibly in other sizes)?
pub(crate) fn same_picture(a: &str, b: &str) -> bool {
    a == b || picture_key(a) == picture_key(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_icons_and_ads_are_noise() {
        assert!(is_noise(
            "https://i0.wp.com/site.example/a.jpg?w=100&h=62",
            None,
            None
        ));
        assert!(is_noise(
            "https://site.example/up/a-150x150.jpg",
            None,
            None
        ));
        assert!(is_noise(
            "https://site.example/a.jpg",
            Some("80"),
            Some("60")
        ));
        assert!(is_noise(
            "https://feeds.feedburner.com/~ff/site?d=yij",
            None,
            None
        ));
        assert!(!is_noise(
            "https://site.example/up/a-1024x683.jpg",
            None,
            None
        ));
        assert!(!is_noise(
            "https://site.example/a.jpg?w=1200",
            Some("1200"),
            Some("800")
        ));
        assert!(!is_noise("https://site.example/a.jpg", None, None));
    }

    #[test]
    fn sizes_of_one_picture_are_the_same() {
        assert!(same_picture(
            "https://site.example/up/photo-1024x683.jpg",
            "https://site.example/up/photo.jpg?w=100&h=62"
        ));
        assert!(same_picture(
            "http://site.example/up/photo-scaled.jpg",
            "https://site.example/up/photo.jpg"
        ));
        assert!(!same_picture(
            "https://site.example/up/photo.jpg",
            "https://site.example/up/other.jpg"
        ));
    }

    #[test]
    fn jetpack_cdn_copies_are_the_same_picture() {
        assert!(same_picture(
            "https://i0.wp.com/site.example/wp-content/uploads/a-1024x683.jpg?ssl=1",
            "https://site.example/wp-content/uploads/a.jpg"
        ));
        assert!(same_picture(
            "https://i2.wp.com/site.example/up/b.png?resize=640%2C360",
            "http://site.example/up/b-300x169.png"
        ));
        assert!(!same_picture(
            "https://i0.wp.com/site.example/up/a.jpg",
            "https://other.example/up/a.jpg"
        ));
        // Not the CDN: a host that merely ends like it.
        assert!(!same_picture(
            "https://xi0.wp.com/site.example/a.jpg",
            "https://site.example/a.jpg"
        ));
    }
}
