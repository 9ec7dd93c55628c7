using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace IntelSharing.IntegrationTests.Console;

/// <summary>
/// The console in a real browser: Debian's headless Chromium, driven by Playwright, against the app on Kestrel.
/// Screenshots of each step are written to tests/artifacts/console/ (kept by CI, ignored by git).
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleBrowserFixture app) : IClassFixture<ConsoleBrowserFixture>, IAsyncLifetime
{
    private readonly PartnerRig _partners = new();
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string Chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            return;
        }

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // As root in a container Chromium needs --no-sandbox; without the background-networking flags it keeps
            // trying to reach Google's hosts, which a closed network refuses.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await _partners.DisposeAsync();
    }

    private IBrowser Browser()
    {
        app.RequireDatabase();
        if (_browser is null)
        {
            var reason = $"Chromium is not installed at {Chromium} (apt-get install chromium; .ci/run installs it).";
            if (Environment.GetEnvironmentVariable("CI") == "true")
            {
                Assert.Fail(reason);
            }

            Assert.Skip(reason);
        }

        return _browser;
    }

    private static string Artifacts
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "IntelSharing.sln")))
            {
                directory = directory.Parent;
            }

            var folder = Path.Combine(directory?.FullName ?? Path.GetTempPath(), "tests", "artifacts", "console");
            Directory.CreateDirectory(folder);
            return folder;
        }
    }

    private static async Task ShootAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, name + ".png"), FullPage = true });

    private static async Task<IPage> SignInAsync(IBrowserContext context, string key, string shot)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console");
        Assert.EndsWith("/console/sign-in?ReturnUrl=%2Fconsole", page.Url, StringComparison.Ordinal);
        await page.GetByLabel("API key").FillAsync(key);
        await ShootAsync(page, shot);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // The URL is what the sign-in decides; waiting for the page's load event as well (WaitForURLAsync's default)
        // timed out once on a loaded 2-core CI runner with the redirect already done.
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/console$"), new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("main")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        return page;
    }

    [Fact]
    public async Task An_agency_signs_in_replays_a_dead_letter_its_partner_then_receives_verifies_the_audit_chain_and_signs_out()
    {
        var browser = Browser();
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.BorderGuard, Scopes.AlertsWrite, Scopes.AlertsRead);
        var partner = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage, Scopes.AuditRead);
        var down = true;
        var receiver = await _partners.ReceiverAsync(_ => new PartnerReceiver.Response(down ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.NoContent));
        var (subscriptionId, _) = await _partners.SubscribeAsync(partner, receiver.Url);
        var alertId = await originator.PublishAsync(TestData.SmugglingAlert("amber+strict", agencies: [partner.Id]));
        Guid deliveryId;
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            deliveryId = await connection.QuerySingleAsync<Guid>(
                "SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id WHERE e.alert_id = @alertId AND d.subscription_id = @subscriptionId",
                new { alertId, subscriptionId });
        }

        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == "dead", "the delivery to die");
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = app.CreateClient().BaseAddress!.ToString(), Locale = "en-GB" });
        var violations = new List<string>();

        var page = await SignInAsync(context, partner.Key, "01-sign-in");
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                violations.Add($"{message.Text} ({message.Location})");
            }
        };
        Assert.Contains(partner.Name, await page.InnerTextAsync("header"), StringComparison.Ordinal);
        await ShootAsync(page, "02-home");

        await page.GetByRole(AriaRole.Link, new() { Name = "Dead letters" }).ClickAsync();
        var row = page.Locator($"tr[data-delivery='{deliveryId}']");
        await Assertions.Expect(row).ToBeVisibleAsync();
        await ShootAsync(page, "03-dead-letters");
        await row.GetByRole(AriaRole.Link).First.ClickAsync();
        await Assertions.Expect(page.Locator("#delivery-state")).ToHaveTextAsync("dead");
        Assert.Contains("HTTP 503", await page.InnerTextAsync("main"), StringComparison.Ordinal);
        Assert.Contains("withheld", await page.InnerTextAsync("main"), StringComparison.Ordinal);
        await ShootAsync(page, "04-delivery-attempts");

        down = false;
        await page.GetByRole(AriaRole.Button, new() { Name = "Replay this delivery" }).ClickAsync();
        await Assertions.Expect(page.Locator("#replay-outcome")).ToContainTextAsync("queued");
        await receiver.WaitForAsync(2);
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());
        await DeliveryTestSettings.EventuallyAsync(async () => (await app.DeliveryStateAsync(deliveryId)).State == "delivered", "delivered");
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#delivery-state")).ToHaveTextAsync("delivered");
        Assert.Equal(2, receiver.Requests); // reloading the page after a replay does not send it again
        await ShootAsync(page, "05-replayed");

        await page.GetByRole(AriaRole.Link, new() { Name = "Audit trail" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify the chain" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-ok='true']")).ToHaveTextAsync("The chain is intact.");
        await ShootAsync(page, "06-audit-verified");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/console/sign-in$"), new() { Timeout = 30_000 });
        await page.GotoAsync($"/console/deliveries/{deliveryId}");
        Assert.Contains("/console/sign-in", page.Url, StringComparison.Ordinal);
        await ShootAsync(page, "07-signed-out");
        Assert.Empty(violations);
    }

    [Fact]
    public async Task An_agency_sees_its_failing_partner_in_partner_health_plotted_and_downloads_its_published_results_as_csv()
    {
        var browser = Browser();
        var ministry = await app.CreateAgencyAsync("Ministry of Interior", "RS", AgencyKind.Ministry,
            Scopes.AlertsWrite, Scopes.AlertsRead, Scopes.SubscriptionsManage, Scopes.StatisticsRead);
        var receiver = await _partners.ReceiverAsync(_ => new PartnerReceiver.Response(HttpStatusCode.ServiceUnavailable));
        var (subscriptionId, _) = await _partners.SubscribeAsync(ministry, receiver.Url, body => body["includeOwnAlerts"] = true);
        await ministry.PublishAsync(TestData.SmugglingAlert("green"));
        await receiver.WaitForAsync(1);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = app.CreateClient().BaseAddress!.ToString(), Locale = "en-GB", AcceptDownloads = true,
        });
        var violations = new List<string>();

        var page = await SignInAsync(context, ministry.Key, "20-ministry-sign-in");
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                violations.Add($"{message.Text} ({message.Location})");
            }
        };
        // A script that throws (uPlot refused by the CSP, or plots.js failing) is a page error, not a console message.
        page.PageError += (_, error) => violations.Add(error);
        await page.GetByRole(AriaRole.Link, new() { Name = "Partner health" }).ClickAsync();
        var row = page.Locator($"tr[data-subscription='{subscriptionId}']");
        await Assertions.Expect(row).ToBeVisibleAsync();
        await DeliveryTestSettings.EventuallyAsync(async () =>
        {
            await page.ReloadAsync();
            return (await row.InnerTextAsync()).Contains("503", StringComparison.Ordinal);
        }, "the failed attempt to show");
        var hours = page.Locator($"figure[data-hours='{subscriptionId}']");
        await Assertions.Expect(hours.Locator(".plot canvas")).ToBeVisibleAsync();
        await Assertions.Expect(hours.Locator("details")).Not.ToHaveAttributeAsync("open", "");
        await ShootAsync(page, "21-partner-health");

        await page.GetByRole(AriaRole.Link, new() { Name = "Published results" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Alerts published" })).ToBeVisibleAsync();
        Assert.Contains("<3", await page.InnerTextAsync("main"), StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("figure[data-flow='categories'] .plot canvas")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("figure[data-flow='partners'] .plot canvas")).ToBeVisibleAsync();
        await ShootAsync(page, "22-published-results");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download CSV" }).ClickAsync());
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!, Ct);

        Assert.StartsWith("intelsharing-statistics-", download.SuggestedFilename, StringComparison.Ordinal);
        Assert.StartsWith("section,period,category,country,agency,measure,value", csv, StringComparison.Ordinal);
        Assert.Contains("migrant_smuggling,,,published_total,<3", csv, StringComparison.Ordinal);
        Assert.Empty(violations);
    }

    [Fact]
    public async Task An_outsiders_session_shows_none_of_another_agencys_deliveries_or_restricted_alerts()
    {
        var browser = Browser();
        var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS", AgencyKind.BorderGuard, Scopes.AlertsWrite, Scopes.AlertsRead);
        var partner = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
        var outsider = await app.CreateAgencyAsync("Croatian Police", "HR", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage, Scopes.AuditRead);
        var receiver = await _partners.ReceiverAsync(_ => new PartnerReceiver.Response(HttpStatusCode.ServiceUnavailable));
        var (subscriptionId, _) = await _partners.SubscribeAsync(partner, receiver.Url);
        var alert = TestData.SmugglingAlert("red", agencies: [partner.Id]);
        alert["title"] = "Van convoy towards Horgos crossing";
        var alertId = await originator.PublishAsync(alert);
        await receiver.WaitForAsync(1);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = app.CreateClient().BaseAddress!.ToString(), Locale = "en-GB" });

        var page = await SignInAsync(context, outsider.Key, "10-outsider-sign-in");
        var home = await page.InnerTextAsync("main");
        await page.GotoAsync("/console/dead-letters");
        var letters = await page.InnerTextAsync("main");
        var alertPage = await page.GotoAsync($"/console/alerts/{alertId}");
        await ShootAsync(page, "11-outsider-alert");

        Assert.DoesNotContain(subscriptionId.ToString(), home, StringComparison.Ordinal);
        Assert.DoesNotContain(receiver.Url, home, StringComparison.Ordinal);
        Assert.DoesNotContain(subscriptionId.ToString(), letters, StringComparison.Ordinal);
        Assert.Equal(404, alertPage!.Status);
        Assert.DoesNotContain("Horgos", await page.InnerTextAsync("main"), StringComparison.Ordinal);
        Assert.Contains("No alert with that id is visible to you.", await page.InnerTextAsync("main"), StringComparison.Ordinal);
    }
}
