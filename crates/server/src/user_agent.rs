//! A visitor's browser and operating system, read from the User-Agent header for
//! agents to see ("Firefox 153", "Windows 10"). Informative only: any client can
//! send any header, so nothing is decided on it.

use std::sync::OnceLock;

use sightline_core::ClientInfo;

/// Headers longer than this are not parsed (no real browser sends one).
const MAX_USER_AGENT_BYTES: usize = 512;

fn parser() -> &'static woothee::parser::Parser {
    static PARSER: OnceLock<woothee::parser::Parser> = OnceLock::new();
    PARSER.get_or_init(woothee::parser::Parser::new)
}

/// What the header says, in short names; nothing for what is not a browser.
pub fn client_info(user_agent: Option<&str>) -> ClientInfo {
    let Some(ua) = user_agent.filter(|ua| ua.len() <= MAX_USER_AGENT_BYTES) else {
        return ClientInfo::default();
    };
    let Some(parsed) = parser().parse(ua) else {
        return ClientInfo::default();
    };
    if !matches!(parsed.category, "pc" | "smartphone" | "mobilephone" | "appliance") {
        return ClientInfo::default();
    }
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    let major = parsed.version.split('.').next().unwrap_or("");
    let browser = known(parsed.name).then(|| {
        if known(major) {
            format!("{} {major}", parsed.name)
        } else {
            parsed.name.to_owned()
        }
    });
    let os_version = parsed.os_version.as_ref();
    let os = known(parsed.os).then(|| match parsed.os {
        "iPhone" | "iPad" | "iPod" if known(os_version) => format!("iOS {os_version} ({})", parsed.os),
        "Mac OSX" => "macOS".to_owned(),
        "Android" if known(os_version) => format!("Android {os_version}"),
        other => other.to_owned(),
    });
    ClientInfo { browser, os }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(ua: &str) -> (Option<String>, Option<String>) {
        let c = client_info(Some(ua));
        (c.browser, c.os)
    }

    #[test]
    fn common_browsers_get_short_names() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/153.0",
                ("Firefox 153", "Linux"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 Edg/156.0.0.0",
                ("Edge 156", "Windows 10"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                ("Safari 18", "iOS 18.1 (iPhone)"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                ("Safari 18", "macOS"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36",
                ("Chrome 156", "Android 14"),
            ),
        ];
        for (ua, (browser, os)) in cases {
            assert_eq!(info(ua), (Some(browser.to_owned()), Some(os.to_owned())), "{ua}");
        }
    }

    #[test]
    fn what_is_no_browser_says_nothing() {
        assert_eq!(client_info(None), ClientInfo::default());
        assert_eq!(client_info(Some("curl/8.0")), ClientInfo::default());
        assert_eq!(client_info(Some("")), ClientInfo::default());
        let huge = format!("Mozilla/5.0 Firefox/153.0 {}", "x".repeat(600));
        assert_eq!(client_info(Some(&huge)), ClientInfo::default());
    }
}
