//! End to end in a real browser: headless Chromium driven through chromedriver. An owner logs in
//! and edits a recovery step, an approver approves, and the overview shows the new version. And
//! the accessibility sweep: axe-core's WCAG 2.1 A/AA rules on every page, at 1280 and 375 px
//! (axe-core from `AXE_CORE_JS`; `REQUIRE_AXE=1` makes its absence a failure).
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test prints one line and
//! passes, unless `REQUIRE_BROWSER=1` (set by `.ci/run`), which makes their absence a failure.

mod helpers;

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use helpers::TestApp;
use helpers::chromium::{browser, browser_with};

async fn login(c: &Client, base: &str, username: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(if username == "admin" {
            helpers::ADMIN_PASSWORD
        } else {
            helpers::DEMO_PASSWORD
        })
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Signed in: the menu with the logout button is there.
    wait_for(c, "form[action='/logout']").await;
}

/// Waits (up to 10 s) until the page that a click led to shows `css`.
async fn wait_for(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"));
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_owner_edits_a_step_an_approver_approves_and_the_overview_shows_the_version() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let base = app.address.clone();
    let step = "<script>window.pwned = 1</script> Tjek \"vCenter\" på Rådhuset – æøå";

    login(&c, &base, "jesper-moeller").await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/plans/example-kommune")
    );
    c.goto(&format!("{base}/plans/example-kommune/systems/vmware"))
        .await
        .unwrap();
    c.find(Locator::LinkText("Redigér afsnittet"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let field = c.find(Locator::Css("#step-0-text")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(step).await.unwrap();
    c.find(Locator::Css(".form-end button[value=save]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "p.ok-box").await;
    assert_eq!(text_of(&c, "p.ok-box").await, "Gemt: 1 felt ændret.");
    // Shown as text, never run.
    assert!(text_of(&c, "ol.steps li").await.contains(step));
    let pwned = c
        .execute("return window.pwned === undefined;", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, serde_json::json!(true));
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    login(&c, &base, "mette-holm").await;
    c.goto(&format!("{base}/plans/example-kommune/versions"))
        .await
        .unwrap();
    c.find(Locator::Css("#comment"))
        .await
        .unwrap()
        .send_keys("Godkendt efter øvelse")
        .await
        .unwrap();
    c.find(Locator::Css("form.approve button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Asked first: which version, and the comment carried along.
    wait_for(&c, "ul.confirm-points").await;
    assert_eq!(text_of(&c, "h1").await, "Godkend version 1?");
    let points = text_of(&c, "ul.confirm-points").await;
    assert!(
        points.contains("Kommentar: “Godkendt efter øvelse”"),
        "{points}"
    );
    shots(&c, "confirm-approve").await;
    c.find(Locator::Css("form[action$='/approve'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Back on the versions page, now with version 1 listed and the message above it.
    wait_for(&c, "#list + div table").await;
    assert_eq!(text_of(&c, "p.flash").await, "Version 1 er godkendt.");
    c.goto(&format!("{base}/plans/example-kommune"))
        .await
        .unwrap();
    let version = text_of(&c, "#version").await;
    assert!(
        version.contains("Version 1 godkendt af Mette Holm"),
        "{version}"
    );
    assert!(!version.contains("Kladden har ændringer"), "{version}");
    c.close().await.unwrap();
}

/// Screenshots of the current page at a desktop's and a phone's width, in target/screenshots,
/// after checking that the page does not scroll sideways at either.
async fn shots(c: &Client, name: &str) {
    let dir = helpers::repo().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    for width in [1280u32, 375] {
        c.set_window_rect(0, 0, width, 1000).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let wide = c
            .execute("return document.documentElement.scrollWidth;", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap();
        assert!(
            wide <= u64::from(width),
            "{name}: {wide} px wide at {width} px"
        );
        let png = c.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}-{width}.png")), png).unwrap();
    }
    c.set_window_rect(0, 0, 1280, 1000).await.unwrap();
}

/// The value of a form field.
async fn value_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_participants_record_is_saved_as_it_is_typed_and_when_the_page_is_left() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.login_as("lars-nielsen").await;
    let run = app.planned_occurrence("ad-nede").await;
    let base = app.address.clone();

    // The owner of AD takes part.
    login(&c, &base, "sofie-andersen").await;
    c.goto(&format!("{base}{run}")).await.unwrap();
    // Planned 30 days ahead and not started: the page says when it starts, not a clock
    // below zero.
    let clock = text_of(&c, "p.clock").await;
    assert!(clock.contains("starter om 4 uger "), "{clock}");
    assert!(c.find(Locator::Css("#elapsed")).await.is_err());
    // Started by the facilitator: the clock runs.
    let started = app.post_form(&format!("{run}/start"), &[]).await;
    assert_eq!(started.status().as_u16(), 303);
    c.goto(&format!("{base}{run}")).await.unwrap();
    let first = text_of(&c, "#elapsed").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = text_of(&c, "#elapsed").await;
    assert!(
        first.starts_with("00:00:") && first != second,
        "{first} {second}"
    );

    // Typed, not submitted: saved after a pause, as the form says.
    c.find(Locator::Css("#recovery-ad"))
        .await
        .unwrap()
        .send_keys("3h")
        .await
        .unwrap();
    c.find(Locator::Css("#notes-ad"))
        .await
        .unwrap()
        .send_keys("DC04 manglede i dokumentationen")
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//form[@id='sys-ad']//span[contains(@class,'save-state') and starts-with(normalize-space(.), 'Gemt')]",
        ))
        .await
        .expect("the form says it was saved");

    // Typed and left at once (no pause): saved as the page goes.
    c.find(Locator::Css("#notes-esdh"))
        .await
        .unwrap()
        .send_keys("Leverandøren svarede ikke")
        .await
        .unwrap();
    c.goto(&format!("{base}/my")).await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        c.goto(&format!("{base}{run}")).await.unwrap();
        let (ad, esdh) = (
            value_of(&c, "#notes-ad").await,
            value_of(&c, "#notes-esdh").await,
        );
        if esdh == "Leverandøren svarede ikke" {
            assert_eq!(ad, "DC04 manglede i dokumentationen");
            assert_eq!(value_of(&c, "#recovery-ad").await, "3h");
            break;
        }
        assert!(Instant::now() < deadline, "not saved on leaving: {esdh:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // What the participant sees is what the store holds.
    let (_, page) = app.page(&format!("{run}/report")).await;
    assert!(page.contains("DC04 manglede i dokumentationen"));
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_facilitator_shows_an_inject_and_closes_the_run_after_being_told_what_is_unfinished() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let base = app.address.clone();
    app.login_as("lars-nielsen").await;
    let run = app.planned_occurrence("ad-nede").await;

    login(&c, &base, "lars-nielsen").await;
    c.goto(&format!("{base}{run}")).await.unwrap();
    c.find(Locator::Css("#inj-0 form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#inj-0.played").await;
    assert!(text_of(&c, "#inj-0 .meta").await.contains("vist "));
    shots(&c, "run-facilitator").await;
    c.find(Locator::Css("form[action$='/close'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "ul.confirm-points").await;
    let points = text_of(&c, "ul.confirm-points").await;
    assert!(
        points.contains("systemer har ingen registrering"),
        "{points}"
    );
    shots(&c, "confirm-close-run").await;
    c.find(Locator::Css("form[action$='/close'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "p.flash").await;
    assert_eq!(
        text_of(&c, "p.flash").await,
        "Øvelsen er lukket, og registreringen er låst."
    );
    shots(&c, "report-closed").await;
    c.goto(&format!("{base}{run}")).await.unwrap();
    wait_for(&c, "#sys-ad dl").await;
    let fields = c
        .execute("return document.querySelectorAll('#records input, #records select, #records textarea').length;", vec![])
        .await
        .unwrap();
    assert_eq!(fields, serde_json::json!(0), "a closed run has no fields");
    c.execute(
        "document.getElementById('records').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    shots(&c, "run-closed").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_offline_runbook_opens_from_disk_without_a_network_on_a_phone_and_a_desktop() {
    // Every request would go to a proxy that is not there: the file must need none.
    let Some((_driver, c)) = browser_with(&[
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
    ])
    .await
    else {
        return;
    };
    let app = TestApp::spawn().await;
    app.login_as("mette-holm").await;
    let response = app
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "Version 1"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    // The copy on a USB stick: away from the server's folder.
    let stick = tempfile::tempdir().unwrap();
    let file = stick.path().join("beredskabsplan.html");
    std::fs::copy(
        app.runbook_dir.join("beredskabsplan-example-kommune.html"),
        &file,
    )
    .unwrap();
    drop(app);

    let shots = helpers::repo().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    c.goto(&format!("file://{}", file.display())).await.unwrap();
    let systems = c
        .execute(
            "return document.querySelectorAll('section.system').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(systems, serde_json::json!(36));
    let requests = c
        .execute(
            "return performance.getEntriesByType('resource').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        requests,
        serde_json::json!(0),
        "nothing loaded from outside the file"
    );
    assert!(text_of(&c, "h1").await.starts_with("Beredskabsplan"));
    // Each system folded: a link from the contents opens its fold.
    let folds = c
        .execute(
            "return [document.querySelectorAll('details.system-fold').length, document.querySelectorAll('details.system-fold[open]').length];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(folds, serde_json::json!([36, 0]));
    resize(&c, 375, 740).await;
    let folded_height = page_height(&c).await;
    c.execute(
        "document.getElementById('systems').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    screenshot(&c, "runbook-folded-375").await;
    c.find(Locator::Css(".toc-systems a[href='#sys-ad']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let ad = c
        .execute(
            "const body = document.getElementById('sys-ad'); const r = body.getBoundingClientRect(); \
             return [body.closest('details').open, r.height > 100, r.top >= 0 && r.top < innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        ad,
        serde_json::json!([true, true, true]),
        "AD opened and in view"
    );
    println!("offline runbook at 375 px: {folded_height} px tall folded");
    assert!(folded_height < 20_000, "{folded_height} px tall at 375 px");
    assert_eq!(unfocusable_scrollers(&c).await, serde_json::json!([]));
    for width in [375u32, 1280] {
        c.set_window_rect(0, 0, width, 900).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let wide = c
            .execute("return document.documentElement.scrollWidth;", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap();
        assert!(
            wide <= u64::from(width),
            "{wide} px wide at {width} px: it scrolls sideways"
        );
        let png = c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a screenshot at {width} px");
        std::fs::write(shots.join(format!("runbook-{width}.png")), png).unwrap();
    }
    // Printed (Chromium's print to PDF), every fold is open: kept for a look beside the
    // screenshots.
    let pdf = c
        .print(fantoccini::wd::PrintConfiguration::default())
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    std::fs::write(shots.join("runbook.pdf"), pdf).unwrap();
    c.close().await.unwrap();
}

/// How tall the page is, in CSS pixels.
async fn page_height(c: &Client) -> u64 {
    c.execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

/// The regions that scroll but cannot be reached by keyboard (axe-core's
/// `scrollable-region-focusable`): each as its tag and class.
async fn unfocusable_scrollers(c: &Client) -> serde_json::Value {
    c.execute(
        r#"const focusable = 'a[href], button, input, select, textarea, [tabindex]';
           return [...document.querySelectorAll('body *')].filter(e => {
             const s = getComputedStyle(e);
             const scrolls = (/(auto|scroll)/.test(s.overflowX) && e.scrollWidth > e.clientWidth + 1)
               || (/(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1);
             return scrolls && !e.matches('[tabindex]') && !e.querySelector(focusable);
           }).map(e => e.tagName + '.' + e.className);"#,
        vec![],
    )
    .await
    .unwrap()
}

/// Saves a screenshot under target/screenshots.
async fn screenshot(c: &Client, name: &str) {
    let shots = helpers::repo().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a screenshot {name}");
    std::fs::write(shots.join(format!("{name}.png")), png).unwrap();
}

/// Makes the viewport `width` × `height` CSS pixels (the window is larger by the browser's own
/// parts) and waits for the page to lay out again.
async fn resize(c: &Client, width: u32, height: u32) {
    let viewport = || async {
        let v = c
            .execute("return [innerWidth, innerHeight];", vec![])
            .await
            .unwrap();
        (
            u32::try_from(v[0].as_u64().unwrap()).unwrap(),
            u32::try_from(v[1].as_u64().unwrap()).unwrap(),
        )
    };
    c.set_window_rect(0, 0, width, height).await.unwrap();
    let (w, h) = viewport().await;
    c.set_window_rect(
        0,
        0,
        width + width.saturating_sub(w),
        height + height.saturating_sub(h),
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while viewport().await != (width, height) {
        assert!(
            Instant::now() < deadline,
            "the viewport did not become {width} × {height} px: {:?}",
            viewport().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn on_a_phone_the_incident_leads_first_screen_holds_what_is_down_its_clock_and_its_next_step()
{
    let Some((_driver, c)) = browser_with(&["--window-size=375,740"]).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let approver = app.signed_in("mette-holm").await;
    let r = approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "Version 1"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    app.login_as("anne-kjaer").await;
    let r = app
        .post_form(
            "/plans/example-kommune/incidents",
            &[
                ("title", "AD svarer ikke"),
                ("criterion", ""),
                ("started", ""),
                ("down", "ad"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let incident = helpers::location(&r);
    let base = app.address.clone();

    login(&c, &base, "anne-kjaer").await;
    resize(&c, 375, 740).await;
    c.goto(&format!("{base}{incident}")).await.unwrap();
    wait_for(&c, "ul.down-now").await;
    // The header is one line: the menu is folded behind "Menu".
    let header = c
        .execute(
            "const h = document.querySelector('header.top').getBoundingClientRect(); \
             return [Math.round(h.height), document.querySelector('nav.menu').checkVisibility()];",
            vec![],
        )
        .await
        .unwrap();
    assert!(header[0].as_u64().unwrap() < 80, "header {header}");
    assert_eq!(
        header[1],
        serde_json::json!(false),
        "the menu is folded: {header}"
    );
    // The first screen: the system down with its clock against its RTO, and its next step.
    let seen = c
        .execute(
            "const inView = sel => { const e = document.querySelector(sel); const r = e.getBoundingClientRect(); \
               return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight; }; \
             return [innerHeight, inView('ul.down-now li .clock'), inView('.next-step .step-text'), \
               inView('.next-step button.tick'), document.querySelector('ul.down-now li').textContent, \
               document.querySelector('.next-step h3').textContent, \
               document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(seen[0], serde_json::json!(740), "{seen}");
    assert_eq!(
        seen[1],
        serde_json::json!(true),
        "the clock is on the first screen: {seen}"
    );
    assert_eq!(
        seen[2],
        serde_json::json!(true),
        "the next step is on the first screen: {seen}"
    );
    assert_eq!(
        seen[3],
        serde_json::json!(true),
        "and the button to tick it: {seen}"
    );
    let down = seen[4].as_str().unwrap();
    assert!(
        down.starts_with("Active Directory") && down.contains("/ RTO 4 t."),
        "{down}"
    );
    assert_eq!(seen[5], serde_json::json!("Næste trin: Active Directory"));
    assert!(
        seen[6].as_u64().unwrap() <= 375,
        "it scrolls sideways: {seen}"
    );
    screenshot(&c, "incident-375").await;

    // Ticked from the first screen, the next step moves on (without a reload: the page's
    // script sends the form and fetches the live part again).
    c.find(Locator::Css(".next-step button.tick"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//div[@class='next-step']//span[@class='meta' and starts-with(., 'Trin 2 af')]",
        ))
        .await
        .expect("the second step is next");

    // The menu opens from its summary, by keyboard too.
    c.find(Locator::Css(".menu-fold > summary"))
        .await
        .unwrap()
        .send_keys("\u{e007}")
        .await
        .unwrap();
    let menu = c
        .execute(
            "return document.querySelector('nav.menu a[href=\"/\"]').checkVisibility();",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(menu, serde_json::json!(true), "the menu opened");

    resize(&c, 1280, 900).await;
    c.goto(&format!("{base}{incident}")).await.unwrap();
    wait_for(&c, "ul.down-now").await;
    screenshot(&c, "incident-1280").await;

    // Back in service: listed with its time out against its RTO.
    let r = app
        .post_form(
            &format!("{incident}/systems"),
            &[("system", "ad"), ("state", "recovered")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    resize(&c, 375, 740).await;
    c.goto(&format!("{base}{incident}#recovered"))
        .await
        .unwrap();
    wait_for(&c, "ul.recovered").await;
    // Nothing down: marking a system down is open (the page's own fold state, as no one
    // folded it by hand).
    wait_for(&c, "details.mark-another[open] input#mark-system").await;
    assert!(
        text_of(&c, "ul.recovered li")
            .await
            .starts_with("Active Directory: nede 0 min. – RTO 4 t. RTO overholdt")
    );
    screenshot(&c, "incident-recovered-375").await;
    resize(&c, 1280, 900).await;
    // On a desktop the menu is simply there, no "Menu" to open.
    let desktop = c
        .execute(
            "return [document.querySelector('nav.menu a[href=\"/\"]').checkVisibility(), \
               document.querySelector('.menu-fold > summary').checkVisibility()];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(desktop, serde_json::json!([true, false]));
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_dependency_picture_fits_its_box_with_every_name_whole_and_lists_neighbours_on_a_phone()
{
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let base = app.address.clone();
    login(&c, &base, "lars-nielsen").await;
    resize(&c, 1280, 1000).await;
    c.goto(&format!("{base}/plans/example-kommune/picture"))
        .await
        .unwrap();
    wait_for(&c, "svg.picture").await;
    let fit = c
        .execute(
            r#"const svg = document.querySelector('svg.picture');
               const box = svg.parentElement;
               const clipped = [...svg.querySelectorAll('g.system')].filter(g => {
                 const r = g.querySelector('rect').getBBox();
                 return [...g.querySelectorAll('text')].some(t => {
                   const b = t.getBBox();
                   return b.x < r.x || b.x + b.width > r.x + r.width || b.y < r.y || b.y + b.height > r.y + r.height;
                 });
               }).map(g => g.id + ' ' + [...g.querySelectorAll('text')].map(t => { const b = t.getBBox(); return t.textContent + ':' + [b.x, b.y, b.width, b.height].map(Math.round); }).join('|') + ' in ' + [r => [r.x, r.y, r.width, r.height]][0](g.querySelector('rect').getBBox()).map(Math.round));
               return [svg.getBoundingClientRect().width <= box.clientWidth, clipped,
                 svg.querySelectorAll('g.system').length, svg.getAttribute('role'),
                 Math.round(svg.getBoundingClientRect().width / svg.viewBox.baseVal.width * 100),
                 document.documentElement.scrollWidth <= innerWidth];"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fit[0],
        serde_json::json!(true),
        "the picture fits its box: {fit}"
    );
    assert_eq!(fit[1], serde_json::json!([]), "names cut off: {fit}");
    assert_eq!(fit[2], serde_json::json!(36));
    // Links inside: a group, not an image (whose parts may not be interactive).
    assert_eq!(fit[3], serde_json::json!("group"));
    assert!(
        fit[4].as_u64().unwrap() >= 85,
        "scaled to {}%: too small to read",
        fit[4]
    );
    assert_eq!(fit[5], serde_json::json!(true));
    println!("picture at 1280 px: scaled to {}%", fit[4]);
    assert_eq!(unfocusable_scrollers(&c).await, serde_json::json!([]));
    screenshot(&c, "picture-1280").await;

    resize(&c, 375, 740).await;
    let phone = c
        .execute(
            r#"const list = document.querySelector('ul.neighbours');
               const ad = document.getElementById('nb-ad');
               return [list.querySelectorAll(':scope > li').length,
                 list.getBoundingClientRect().top < document.querySelector('svg.picture').getBoundingClientRect().top,
                 ad.querySelector('a').getAttribute('href'),
                 [...ad.querySelectorAll('dd')].map(d => d.textContent),
                 document.documentElement.scrollWidth <= innerWidth];"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(phone[0], serde_json::json!(36), "{phone}");
    assert_eq!(
        phone[1],
        serde_json::json!(true),
        "the list comes first on a phone: {phone}"
    );
    assert_eq!(
        phone[2],
        serde_json::json!("/plans/example-kommune/systems/ad")
    );
    let needed_by = phone[3][1].as_str().unwrap();
    assert!(needed_by.contains("KMD WorkZone (ESDH)"), "{phone}");
    assert_eq!(phone[4], serde_json::json!(true), "{phone}");
    assert_eq!(unfocusable_scrollers(&c).await, serde_json::json!([]));
    screenshot(&c, "picture-375").await;

    // The audit log and a diff at 375 px: nothing scrolls out of the keyboard's reach.
    let coordinator = app.signed_in("lars-nielsen").await;
    let mut fields = coordinator.system_form("example-kommune", "ad").await;
    helpers::set(
        &mut fields,
        "workaround",
        "Brug https://nødadgang.example-kommune.dk/adgang/break-glass/konto-til-beredskabslederen-og-it-driften-i-rådhusets-serverrum",
    );
    let r = coordinator
        .submit("/plans/example-kommune/systems/ad/edit", &fields)
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let approver = app.signed_in("mette-holm").await;
    let r = approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "Version 1"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let mut fields = coordinator.system_form("example-kommune", "ad").await;
    helpers::set(
        &mut fields,
        "workaround",
        "Ring til driftsvagten på 7236 4100, og følg papirudgaven.",
    );
    let r = coordinator
        .submit("/plans/example-kommune/systems/ad/edit", &fields)
        .await;
    assert_eq!(r.status().as_u16(), 303);
    for page in [
        "/audit",
        "/plans/example-kommune/versions/diff?from=1&to=draft",
    ] {
        c.goto(&format!("{base}{page}")).await.unwrap();
        wait_for(&c, "main h1").await;
        assert_eq!(
            unfocusable_scrollers(&c).await,
            serde_json::json!([]),
            "{page}"
        );
        if page.contains("diff") {
            assert!(text_of(&c, "table.diff").await.contains("break-glass"));
        }
        let wide = c
            .execute("return document.documentElement.scrollWidth;", vec![])
            .await
            .unwrap();
        assert!(wide.as_u64().unwrap() <= 375, "{page} is {wide} px wide");
    }
    screenshot(&c, "diff-375").await;
    c.goto(&format!("{base}/audit")).await.unwrap();
    screenshot(&c, "audit-375").await;
    c.close().await.unwrap();
}

/// The WCAG 2.1 A and AA rules of axe-core.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// axe-core's source, from `AXE_CORE_JS`; `None` (and one line) when it is not there, unless
/// `REQUIRE_AXE=1`.
fn axe_source() -> Option<String> {
    let required = std::env::var("REQUIRE_AXE").is_ok_and(|v| v == "1");
    let source = std::env::var_os("AXE_CORE_JS").and_then(|p| std::fs::read_to_string(p).ok());
    if source.is_none() {
        assert!(
            !required,
            "REQUIRE_AXE=1 but AXE_CORE_JS does not name axe-core's axe.min.js"
        );
        println!(
            "skipped: AXE_CORE_JS does not name axe-core's axe.min.js (npm install axe-core; .ci/run does)"
        );
    }
    source
}

/// The violations of one page as the failure message lists them: page, width, rule and the
/// selectors of the offending nodes.
fn violations_of(page: &str, width: u32, result: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for v in result.as_array().into_iter().flatten() {
        let rule = v["id"].as_str().unwrap_or("?");
        let nodes: Vec<String> = v["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .take(8)
            .map(|n| n["target"].to_string())
            .collect();
        out.push(format!(
            "{page} at {width} px: {rule} ({}): {}",
            v["help"].as_str().unwrap_or(""),
            nodes.join(" ")
        ));
    }
    out
}

/// Runs axe-core on the page the browser shows, at 1280 and at 375 px.
async fn sweep_page(c: &Client, axe: &str, page: &str, problems: &mut Vec<String>) {
    let loaded = c
        .execute(&format!("{axe}\n;return typeof window.axe;"), vec![])
        .await
        .unwrap();
    assert_eq!(loaded, serde_json::json!("object"), "axe-core on {page}");
    for width in [1280u32, 375] {
        c.set_window_rect(0, 0, width, 900).await.unwrap();
        let result = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})
                    .then(r => done(r.violations.map(v => ({id: v.id, help: v.help,
                        nodes: v.nodes.map(n => ({target: n.target}))}))))
                    .catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));",
                vec![serde_json::json!(AXE_TAGS)],
            )
            .await
            .unwrap_or_else(|e| panic!("axe on {page} at {width} px: {e}"));
        problems.extend(violations_of(page, width, &result));
    }
    c.set_window_rect(0, 0, 1280, 1000).await.unwrap();
}

/// Who opens a page in the sweep: the role that sees most of it.
fn sweeper(path: &str, may: &[&str]) -> &'static str {
    if path == "/login" {
        ""
    } else if path.starts_with("/admin") {
        "admin"
    } else if path.ends_with("/versions") {
        // The approver also sees the approval form.
        "mette-holm"
    } else if may.contains(&"coordinator") {
        "lars-nielsen"
    } else {
        helpers::routes::ROLES
            .iter()
            .find(|(role, _)| may.contains(role) && *role != "anonymous")
            .map_or("", |(_, user)| user)
    }
}

#[tokio::test]
async fn every_page_passes_the_wcag_rules_of_axe_core_on_a_desktop_and_a_phone() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some((_driver, c)) = browser().await else {
        assert!(
            !std::env::var("REQUIRE_AXE").is_ok_and(|v| v == "1"),
            "REQUIRE_AXE=1 but chromium or chromedriver is not installed"
        );
        return;
    };
    let started = Instant::now();
    // Two plans, so that the front page lists them.
    let folder = tempfile::tempdir().unwrap();
    helpers::copy_dir(
        &helpers::example_plan(),
        &folder.path().join("example-kommune"),
    );
    helpers::mini_plan_in(folder.path(), "mini");
    let app = TestApp::spawn_on(helpers::sqlite_db(), folder.path()).await;
    let base = app.address.clone();

    // Something on every page: version 1, a draft that differs from it, a planned drill, an
    // open incident with systems down, an account to edit.
    let approver = app.signed_in("mette-holm").await;
    let response = approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "Version 1"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let coordinator = app.signed_in("lars-nielsen").await;
    let mut fields = coordinator.system_form("example-kommune", "vmware").await;
    helpers::set(&mut fields, "rto", "3h");
    let workaround = fields
        .iter()
        .find(|(k, _)| k == "workaround")
        .unwrap()
        .1
        .clone();
    helpers::set(
        &mut fields,
        "workaround",
        &workaround.replace("Skybaserede", "Cloudbaserede"),
    );
    let response = coordinator
        .submit("/plans/example-kommune/systems/vmware/edit", &fields)
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let occurrence = coordinator.planned_occurrence("ad-nede").await;
    let (_, page) = coordinator.page(&occurrence).await;
    let drill = page
        .split("href=\"/drills/")
        .nth(1)
        .and_then(|rest| rest.split(['"', '/']).next())
        .expect("the occurrence links its drill")
        .to_string();
    let response = coordinator
        .post_form(
            "/plans/example-kommune/incidents",
            &[
                ("title", "AD er nede"),
                ("criterion", ""),
                ("started", ""),
                ("down", "ad"),
                ("down", "esdh"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let incident = helpers::location(&response);
    // The call tree alerted (an acknowledgement link to sweep), and a Teams channel and a
    // webhook on the plan's page of receivers.
    let lead = app.signed_in("anne-kjaer").await;
    lead.post_form(&format!("{incident}/alert"), &[]).await;
    let ack = beredskab::store::outbox::recent(&app.handle().db, None, 100)
        .await
        .unwrap()
        .iter()
        .find_map(|m| {
            let at = m.body_text.find("/k/")?;
            Some(m.body_text[at..].split_whitespace().next()?.to_string())
        })
        .expect("an acknowledgement link in the alert");
    for (kind, url) in [
        (
            "teams",
            "https://prod-12.westeurope.logic.azure.com/workflows/abc",
        ),
        (
            "webhook",
            "https://status.eksempel-kommune.dk/hooks/beredskab",
        ),
    ] {
        let response = coordinator
            .post_form(
                "/plans/example-kommune/webhooks",
                &[
                    ("kind", kind),
                    ("url", url),
                    ("description", "IT-beredskab"),
                ],
            )
            .await;
        assert_eq!(response.status().as_u16(), 303);
    }
    // A dispensation, approved: the register and its page have something to show.
    let until = (helpers::today() + chrono::Duration::days(60)).to_string();
    let response = coordinator
        .post_form(
            "/plans/example-kommune/dispensations",
            &[
                ("subject", "finding:supplier-restore-exceeds-rto|esdh"),
                ("justification", "Kontrakten genforhandles i foråret"),
                (
                    "compensating",
                    "Manuel sagsbehandling på papir, afprøvet hver måned",
                ),
                ("until", &until),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let dispensation = helpers::location(&response);
    let response = approver
        .post_form(
            &format!("{dispensation}/decision"),
            &[
                ("decision", "approve"),
                ("until", &until),
                ("comment", "Til den nye kontrakt"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let admin = app.signed_in("admin").await;
    let (_, page) = admin.page("/admin/accounts").await;
    let account = page
        .split("href=\"/admin/accounts/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an account to edit")
        .to_string();

    // Every page the routers declare that answers HTML, with real ids for the placeholders,
    // plus error pages.
    let real = |path: &str| {
        path.replace("/drills/999", &format!("/drills/{drill}"))
            .replace("/occurrences/999", &occurrence)
            .replace("/incidents/999", &incident)
            .replace("/admin/accounts/999", &format!("/admin/accounts/{account}"))
            .replace("diff?from=draft&to=draft", "diff?from=1&to=draft")
            .replace("/k/999/AAAAAAAAAAAAAAAAAAAAAA", &ack)
            .replace("/plans/example-kommune/dispensations/999", &dispensation)
    };
    let mut pages: Vec<(&str, String)> = helpers::routes::routes()
        .into_iter()
        .filter(|(method, path, _, _)| {
            *method == "GET"
                && !path.starts_with("/api/")
                && !path.starts_with("/lang/")
                && !path.ends_with("/live")
        })
        .map(|(_, path, _, may)| (sweeper(path, may), real(path)))
        .collect();
    pages.extend([
        ("lars-nielsen", "/plans/no-such-plan".to_string()),
        ("jesper-moeller", "/audit".to_string()),
        ("lars-nielsen", "/audit?from=28-11-2026".to_string()),
        ("jesper-moeller", "/my".to_string()),
    ]);
    // Grouped by who opens them, so the browser signs in once per account.
    pages.sort_by_key(|(user, _)| *user);
    pages.dedup();

    let files = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let mut swept = 0;
    let mut signed_in: Option<&str> = None;
    let mut clients = std::collections::HashMap::new();
    for (user, path) in &pages {
        if !clients.contains_key(user) {
            clients.insert(*user, app.signed_in(user).await);
        }
        // As a browser asks, so an error comes as the page a person sees.
        let response = clients[user]
            .client
            .get(format!("{base}{path}"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let (kind, disposition) = (header("content-type"), header("content-disposition"));
        let redirect = response.status().is_redirection();
        let response_status = response.status().as_u16();
        if !kind.starts_with("text/html") && !redirect {
            println!("not a page: {path} as {user:?} ({response_status} {kind})");
            continue;
        }
        if signed_in != Some(user) {
            if signed_in.is_some_and(|u| !u.is_empty()) {
                c.find(Locator::Css("form[action='/logout'] button"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
                wait_for(&c, "#username").await;
            }
            if !user.is_empty() {
                login(&c, &base, user).await;
            }
            signed_in = Some(user);
        }
        let shown = if disposition.starts_with("attachment") {
            // A download is read as its reader reads it: opened from disk.
            let file = files.path().join(format!("file-{swept}.html"));
            std::fs::write(&file, response.bytes().await.unwrap()).unwrap();
            c.goto(&format!("file://{}", file.display())).await.unwrap();
            format!("{path} (file)")
        } else {
            c.goto(&format!("{base}{path}")).await.unwrap();
            path.clone()
        };
        sweep_page(&c, &axe, &shown, &mut problems).await;
        let shot = if path.contains("/versions/diff") {
            Some("diff")
        } else if path.ends_with("/versions") {
            Some("versions")
        } else if path.ends_with("/dispensations") {
            Some("dispensations")
        } else if path == &dispensation {
            Some("dispensation")
        } else {
            None
        };
        if let Some(name) = shot {
            // To look at: the word diff on a desktop and on a phone.
            let shots = helpers::repo().join("target/screenshots");
            std::fs::create_dir_all(&shots).unwrap();
            for width in [1280u32, 375] {
                c.set_window_rect(0, 0, width, 1000).await.unwrap();
                let png = c.screenshot().await.unwrap();
                std::fs::write(shots.join(format!("{name}-{width}.png")), png).unwrap();
            }
            c.set_window_rect(0, 0, 1280, 1000).await.unwrap();
        }
        println!("swept {shown} as {user:?} ({})", response_status);
        swept += 1;
        if path.ends_with("/import") {
            // A sheet with bad cells, then the README's example: each preview as it is shown.
            let bad = files.path().join("fejl.csv");
            std::fs::write(
                &bad,
                "System;RTO;Systemejer\nesdh;tre timer;Ukendt Person\n",
            )
            .unwrap();
            let example = helpers::repo().join("docs/systemer-eksempel.csv");
            for (file, name, shown) in [
                (&bad, "import-errors", "#preview-errors"),
                (&example, "import-preview", "#apply-form"),
            ] {
                c.goto(&format!("{base}{path}")).await.unwrap();
                c.find(Locator::Css("#file"))
                    .await
                    .unwrap()
                    .send_keys(file.to_str().unwrap())
                    .await
                    .unwrap();
                c.find(Locator::Css("#import-form button[type=submit]"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
                wait_for(&c, shown).await;
                sweep_page(&c, &axe, &format!("{path} ({name})"), &mut problems).await;
                shots(&c, name).await;
                swept += 1;
            }
        }
        if path.ends_with("/systems/vmware/edit") {
            // The form sent back with its errors beside the fields.
            let rto = c.find(Locator::Css("#rto")).await.unwrap();
            rto.clear().await.unwrap();
            rto.send_keys("fire timer og lidt").await.unwrap();
            c.find(Locator::Css(".form-end button[value=save]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_for(&c, "[aria-invalid=true]").await;
            sweep_page(
                &c,
                &axe,
                "/plans/example-kommune/systems/vmware/edit (with errors)",
                &mut problems,
            )
            .await;
            swept += 1;
        }
    }
    // The offline runbook, as it is kept on a USB stick.
    let file = files.path().join("beredskabsplan-example-kommune.html");
    std::fs::copy(
        app.runbook_dir.join("beredskabsplan-example-kommune.html"),
        &file,
    )
    .unwrap();
    c.goto(&format!("file://{}", file.display())).await.unwrap();
    sweep_page(
        &c,
        &axe,
        "/plans/example-kommune/runbook.html (USB copy)",
        &mut problems,
    )
    .await;
    swept += 1;
    c.close().await.unwrap();
    println!(
        "axe-core: {swept} pages at 1280 and 375 px in {:.0?}",
        started.elapsed()
    );
    assert!(swept >= 40, "only {swept} pages swept");
    assert!(
        problems.is_empty(),
        "{} WCAG 2.1 A/AA violations:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test]
async fn a_user_enrols_a_second_factor_from_the_page_and_signs_in_with_a_code() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let base = app.address.clone();
    login(&c, &base, "mette-holm").await;
    c.goto(&format!("{base}/account")).await.unwrap();
    c.find(Locator::Css("a[href='/account/second-factor']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#totp-secret").await;
    shots(&c, "second-factor-enrol").await;
    // The whole page at a phone's width, to look at the key and the form below the QR code.
    c.set_window_rect(0, 0, 375, 1900).await.unwrap();
    screenshot(&c, "second-factor-enrol-375-whole").await;
    // At a phone's width too, the QR code stays large enough to scan (at least 200 px) and
    // the key stays on the screen.
    for width in [1280u32, 375] {
        c.set_window_rect(0, 0, width, 1000).await.unwrap();
        let size = c
            .execute(
                "const q = document.querySelector('img.qr').getBoundingClientRect();
                 const k = document.querySelector('#totp-secret').getBoundingClientRect();
                 return [q.width, q.height, k.right];",
                vec![],
            )
            .await
            .unwrap();
        let (w, h, right) = (
            size[0].as_f64().unwrap(),
            size[1].as_f64().unwrap(),
            size[2].as_f64().unwrap(),
        );
        assert!(w >= 200.0 && h >= 200.0, "QR code {w}×{h} at {width} px");
        assert!(
            right <= f64::from(width),
            "the key ends at {right} at {width} px"
        );
    }
    c.set_window_rect(0, 0, 1280, 1000).await.unwrap();
    let secret = text_of(&c, "#totp-secret").await.replace(' ', "");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code_at = |time: u64| {
        totp_rs::Builder::new()
            .with_secret(totp_rs::Secret::try_from_base32(&secret).unwrap())
            .build()
            .unwrap()
            .generate(time)
            .to_string()
    };
    c.find(Locator::Css("#code"))
        .await
        .unwrap()
        .send_keys(&code_at(now))
        .await
        .unwrap();
    c.find(Locator::Css(
        "form[action='/account/second-factor'] button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for(&c, "#recovery-codes").await;
    shots(&c, "second-factor-recovery-codes").await;
    let codes = text_of(&c, "#recovery-codes").await;
    assert_eq!(codes.lines().count(), 10, "{codes}");

    // Signed out and in again: the code is asked for after the password.
    c.goto(&format!("{base}/account")).await.unwrap();
    wait_for(&c, "form[action='/account/second-factor/disable']").await;
    shots(&c, "account-second-factor").await;
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#username").await;
    c.find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys("mette-holm")
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(helpers::DEMO_PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "form[action='/login/code']").await;
    shots(&c, "second-factor-sign-in").await;
    c.find(Locator::Css("#code"))
        .await
        .unwrap()
        .send_keys(&code_at(now + 30))
        .await
        .unwrap();
    c.find(Locator::Css(
        "form[action='/login/code'] button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for(&c, "form[action='/logout']").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn an_alerted_person_acknowledges_from_the_link_on_a_phone_and_the_lead_sees_it() {
    let Some((_driver, c)) = browser_with(&["--window-size=375,740"]).await else {
        return;
    };
    let gateway = helpers::http_peer::HttpPeer::start(helpers::http_peer::gatewayapi_ok()).await;
    let url = gateway.url("/rest/mtsms");
    let app = TestApp::spawn_on_with(helpers::sqlite_db(), &helpers::plans(), |config| {
        config.sms_provider = Some(beredskab::config::SmsProvider::Gatewayapi);
        config.sms_url = url;
        config.sms_token = Some("token".into());
    })
    .await;
    let approver = app.signed_in("mette-holm").await;
    approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "Version 1"), ("confirmed", "1")],
        )
        .await;
    app.login_as("anne-kjaer").await;
    let r = app
        .post_form(
            "/plans/example-kommune/incidents",
            &[
                ("title", "Exchange Online svarer ikke"),
                ("criterion", ""),
                ("started", ""),
                ("down", "ad"),
            ],
        )
        .await;
    let incident = helpers::location(&r);
    app.post_form(&format!("{incident}/alert"), &[]).await;
    app.deliver_mail().await;
    // Lars Nielsen's SMS, opened on his phone: no account, no sign-in.
    let sms = gateway
        .received()
        .into_iter()
        .find(|r| r.json()["recipients"][0]["msisdn"] == 4572364102_u64)
        .unwrap();
    let text = sms.json()["message"].as_str().unwrap().to_string();
    let link = text.rsplit(' ').next().unwrap().to_string();
    c.goto(&link).await.unwrap();
    wait_for(&c, "button[value='coming']").await;
    shots(&c, "acknowledge").await;
    c.find(Locator::Css("#note"))
        .await
        .unwrap()
        .send_keys("Fremme om 20 minutter")
        .await
        .unwrap();
    c.find(Locator::Css("button[value='coming']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#ack-given").await;
    assert!(text_of(&c, "#ack-given").await.contains("og er på vej"));
    shots(&c, "acknowledged").await;
    // The incident lead's page says who has answered.
    login(&c, &app.address, "anne-kjaer").await;
    c.goto(&format!("{}{incident}#call-tree", app.address))
        .await
        .unwrap();
    wait_for(&c, "#ack-count").await;
    assert_eq!(text_of(&c, "#ack-count").await, "1 af 12 har kvitteret");
    shots(&c, "incident-call-tree").await;
}

/// Runs `script` (its last argument is the callback) in the page and returns what it gave.
async fn run_async(c: &Client, script: &str) -> serde_json::Value {
    c.execute_async(
        &format!("const done = arguments[arguments.length - 1]; {script}"),
        vec![],
    )
    .await
    .unwrap()
}

/// Waits (up to 20 s) until the service worker keeps every path in `paths` (and no other page
/// when `only`), as the phone's cache says.
async fn wait_kept(c: &Client, paths: &[&str], only: bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let kept = run_async(
            c,
            "caches.keys().then(keys => Promise.all(keys.filter(k => k.startsWith('beredskab-') && k !== 'beredskab-meta')
                .map(k => caches.open(k).then(cache => cache.keys()))))
              .then(lists => done([].concat(...lists).map(r => new URL(r.url).pathname)
                .filter(p => !p.startsWith('/static/'))))
              .catch(e => done(['error: ' + e]));",
        )
        .await;
        let kept: Vec<String> = kept
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        let all = paths.iter().all(|p| kept.iter().any(|k| k == p));
        if all && (!only || kept.len() == paths.len()) {
            return kept;
        }
        assert!(
            Instant::now() < deadline,
            "kept {kept:?}, waiting for {paths:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Submits the incident page's form matching `css`, as a tap on its button does.
async fn submit(c: &Client, css: &str) {
    let done = c
        .execute(
            "const f = document.querySelector(arguments[0]); if (!f) { return false; } f.requestSubmit(); return true;",
            vec![serde_json::json!(css)],
        )
        .await
        .unwrap();
    assert_eq!(done, serde_json::json!(true), "no form {css}");
}

#[tokio::test]
async fn on_a_phone_an_incident_works_offline_and_is_synchronised_when_the_server_is_back() {
    let Some((_driver, phone)) = browser_with(&["--window-size=375,740"]).await else {
        return;
    };
    let db = helpers::sqlite_db();
    let bind: std::net::SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let plans = helpers::plans();
    let spawn = || helpers::spawn_app_with(&db.url, &plans, move |c| c.bind = bind);
    let app = spawn().await;
    let base = app.address.clone();
    let approver = app.signed_in("mette-holm").await;
    let approve = |comment: &'static str| {
        let approver = approver.at(&base);
        async move {
            let r = approver
                .post_form(
                    "/plans/example-kommune/approve",
                    &[("comment", comment), ("confirmed", "1")],
                )
                .await;
            assert_eq!(r.status().as_u16(), 303);
        }
    };
    approve("Version 1").await;
    let lead = app.signed_in("anne-kjaer").await;
    let r = lead
        .post_form(
            "/plans/example-kommune/incidents",
            &[
                ("title", "Netværket er nede på Rådhuset"),
                ("criterion", ""),
                ("started", ""),
                ("down", "ad"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let incident = helpers::location(&r);
    let id: i64 = incident.rsplit('/').next().unwrap().parse().unwrap();

    // Installable: the manifest, its icons, a service worker in charge of the page.
    let manifest: serde_json::Value = lead
        .get("/manifest.webmanifest")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(manifest["display"], "standalone");
    assert_eq!(manifest["start_url"], "/");
    let icon = lead.get("/icons/icon-192.png").await.bytes().await.unwrap();
    assert!(icon.starts_with(b"\x89PNG"));
    login(&phone, &base, "anne-kjaer").await;
    phone.goto(&format!("{base}{incident}")).await.unwrap();
    let runbook = "/plans/example-kommune/runbook";
    let pocket = "/plans/example-kommune/pocket";
    wait_kept(&phone, &[&incident, runbook, pocket], true).await;

    // The server goes away. The page opens from the phone, saying what it shows.
    app.stop().await;
    phone.refresh().await.unwrap();
    wait_for(&phone, "#offline-banner").await;
    let banner = text_of(&phone, "#offline-banner").await;
    assert!(
        banner.starts_with("Offline — viser hændelsen, som den var"),
        "{banner}"
    );
    // The call tree's numbers still call.
    assert!(
        phone
            .find(Locator::Css("a.call[href^='tel:']"))
            .await
            .is_ok()
    );
    screenshot(&phone, "incident-offline-375").await;
    if let Some(axe) = axe_source() {
        let mut problems = Vec::new();
        sweep_page(&phone, &axe, "incident offline", &mut problems).await;
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        resize(&phone, 375, 740).await;
    }
    // Two steps ticked and a note written offline: kept on the phone, marked as not sent.
    submit(
        &phone,
        "form.live-form:has(input[name=system][value=ad]):has(input[name=step][value='0'])",
    )
    .await;
    submit(
        &phone,
        "form.live-form:has(input[name=system][value=ad]):has(input[name=step][value='1'])",
    )
    .await;
    phone
        .execute(
            "document.getElementById('note').value = 'Ringet til Atea fra mobilen';",
            vec![],
        )
        .await
        .unwrap();
    submit(&phone, "#note-form").await;
    wait_for(&phone, "li.pending").await;
    let queued = run_async(&phone, "BeredskabQueue.all().then(a => done(a.length));").await;
    assert_eq!(queued, serde_json::json!(3));
    assert!(text_of(&phone, "#live").await.contains("ikke sendt endnu"));
    screenshot(&phone, "incident-offline-pending-375").await;

    // The server is back. Before the phone reaches it, someone else ticks step 2 online, on a
    // page of their own that follows the incident.
    let app = spawn().await;
    let Some((_driver2, desk)) = browser().await else {
        return;
    };
    login(&desk, &base, "sofie-andersen").await;
    desk.goto(&format!("{base}{incident}")).await.unwrap();
    wait_for(&desk, "#live").await;
    submit(
        &desk,
        "form.live-form:has(input[name=system][value=ad]):has(input[name=step][value='1'])",
    )
    .await;
    let handle = app.handle();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !beredskab::store::incidents::ticks(&handle.db, id)
        .await
        .unwrap()
        .iter()
        .any(|t| t.step == 1)
    {
        assert!(Instant::now() < deadline, "the second page's tick");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The phone is online again: what it kept goes, once.
    let back = Instant::now();
    phone
        .execute("window.dispatchEvent(new Event('online'));", vec![])
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = run_async(&phone, "BeredskabQueue.all().then(a => done(a.length));").await;
        if left == serde_json::json!(0) {
            break;
        }
        assert!(Instant::now() < deadline, "still kept on the phone: {left}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ticks = beredskab::store::incidents::ticks(&handle.db, id)
        .await
        .unwrap();
    let by = |step: i32| {
        ticks
            .iter()
            .find(|t| t.step == step)
            .map(|t| t.ticked_by.clone())
    };
    assert_eq!(by(0).as_deref(), Some("anne-kjaer"), "the phone's tick");
    assert_eq!(
        by(1).as_deref(),
        Some("sofie-andersen"),
        "the tick made first stands"
    );
    let events = beredskab::store::incidents::events(&handle.db, id)
        .await
        .unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "note").count(), 1);
    assert_eq!(events.iter().filter(|e| e.kind == "late").count(), 1);
    let offline: Vec<_> = events.iter().filter(|e| e.recorded_at.is_some()).collect();
    assert_eq!(
        offline.len(),
        3,
        "each kept apart from when it was recorded"
    );
    assert!(offline.iter().all(|e| e.at < e.recorded_at.unwrap()));
    // The other page sees the phone's tick within a second of its arrival.
    desk.wait()
        .at_most(
            Duration::from_secs(1)
                .saturating_sub(back.elapsed())
                .max(Duration::from_millis(1500)),
        )
        .for_element(Locator::XPath("//*[contains(., 'udført af Anne Kjær')]"))
        .await
        .expect("the second page shows the phone's tick");
    // The phone shows what the server has, the conflict included.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !text_of(&phone, "#live")
        .await
        .contains("modtaget, efter at det allerede var sket")
    {
        assert!(
            Instant::now() < deadline,
            "{}",
            text_of(&phone, "#live").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(&phone, "incident-synchronised-375").await;

    // A new approval replaces the kept runbook: offline it names version 2.
    let coordinator = app.signed_in("lars-nielsen").await;
    let mut fields = coordinator.system_form("example-kommune", "print").await;
    helpers::set(
        &mut fields,
        "verification",
        "Udskriv en testside fra en klient",
    );
    let saved = coordinator
        .submit("/plans/example-kommune/systems/print/edit", &fields)
        .await;
    assert_eq!(saved.status().as_u16(), 303);
    approve("Version 2").await;
    phone
        .goto(&format!("{base}/plans/example-kommune"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = run_async(
            &phone,
            "caches.open('beredskab-meta').then(c => c.match('/__beredskab/state')).then(r => r ? r.json() : {}).then(s => done(s.pages ? s.pages['/plans/example-kommune/runbook'].version : ''));",
        )
        .await;
        if state.as_str().is_some_and(|v| v.starts_with("v2")) {
            break;
        }
        assert!(Instant::now() < deadline, "the runbook kept is {state}");
        phone.refresh().await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    app.stop().await;
    phone.goto(&format!("{base}{runbook}")).await.unwrap();
    wait_for(&phone, "#offline-banner").await;
    let banner = text_of(&phone, "#offline-banner").await;
    assert!(
        banner.starts_with("Offline — viser godkendt version 2 fra"),
        "{banner}"
    );
    screenshot(&phone, "runbook-offline-375").await;

    // Another person on the same phone: signing out forgets Anne's pages, and Lars, signed in,
    // gets his own, under another name.
    let app = spawn().await;
    let caches = || {
        run_async(
            &phone,
            "caches.keys().then(k => done(k.filter(n => n !== 'beredskab-meta')));",
        )
    };
    phone.goto(&format!("{base}{runbook}")).await.unwrap();
    wait_kept(&phone, &[&incident, runbook, pocket], true).await;
    let annes = caches().await;
    // "Log ud" from the folded menu.
    submit(&phone, "form[action='/logout']").await;
    wait_for(&phone, "#username").await;
    wait_kept(&phone, &[], true).await;
    login(&phone, &base, "lars-nielsen").await;
    wait_kept(&phone, &[&incident, runbook, pocket], true).await;
    let lars = caches().await;
    assert_eq!(lars.as_array().unwrap().len(), 1, "{lars}");
    assert_ne!(lars, annes, "kept under another name");

    // Removed from the plan: at the next contact the phone forgets the plan's pages.
    let admin = app.signed_in("admin").await;
    let (_, accounts) = admin.page("/admin/accounts").await;
    let at = accounts.find(">lars-nielsen</a>").expect("the account");
    let start = accounts[..at].rfind("/admin/accounts/").unwrap();
    let path = accounts[start..at].trim_end_matches('"').to_string();
    let (_, page) = admin.page(&path).await;
    let fields: Vec<(String, String)> = helpers::form_fields(&page, &path)
        .into_iter()
        .filter(|(k, _)| k != "membership")
        .collect();
    assert_eq!(admin.submit(&path, &fields).await.status().as_u16(), 303);
    phone.goto(&format!("{base}/account")).await.unwrap();
    wait_kept(&phone, &[], true).await;
    let _ = app;
}
