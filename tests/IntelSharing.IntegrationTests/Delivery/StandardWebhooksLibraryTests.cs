using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Delivery;

/// <summary>
/// A receiver built on the official Standard Webhooks npm library (tests/webhook-verifier) verifies requests the
/// dispatcher really sent, before and during a secret rotation. Needs Node.js and `npm ci` in that folder;
/// .ci/run does both and sets INTELSHARING_REQUIRE_NODE=1 so that the test cannot skip there.
/// </summary>
public sealed class StandardWebhooksLibraryTests(DeliverySqliteFixture app) : IClassFixture<DeliverySqliteFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_official_library_verifies_what_the_dispatcher_sends_including_during_rotation()
    {
        var folder = VerifierFolder();
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "standardwebhooks")))
        {
            var reason = $"Standard Webhooks cross-check skipped: run 'npm ci' in {folder} (needs Node.js).";
            Assert.True(Environment.GetEnvironmentVariable("INTELSHARING_REQUIRE_NODE") != "1", reason);
            Assert.Skip(reason);
        }

        using var node = Process.Start(new ProcessStartInfo("node", ["receiver.mjs"])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        try
        {
            var line = await node.StandardOutput.ReadLineAsync(Ct);
            var port = int.Parse(line!.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            using var verifier = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

            var originator = await app.CreateAgencyAsync("Border Police Directorate", "RS");
            var partner = await app.CreateAgencyAsync("Hungarian Police", "HU", AgencyKind.Police, Scopes.AlertsRead, Scopes.SubscriptionsManage);
            var created = await (await partner.Client.PostAsync("/api/v1/subscriptions",
                Samples.Json(new JsonObject { ["url"] = $"http://127.0.0.1:{port}/intelsharing" }), Ct)).ReadJsonAsync();
            var subscriptionId = created.GetProperty("subscription").GetProperty("id").GetGuid();
            var oldSecret = created.GetProperty("secret").GetString()!;

            Assert.Equal(HttpStatusCode.Created, (await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.SmugglingAlert()), Ct)).StatusCode);
            await WaitForAsync(verifier, oldSecret, 1);
            var rotated = await (await partner.Client.PostAsync($"/api/v1/subscriptions/{subscriptionId}/rotate-secret", null, Ct)).ReadJsonAsync();
            var newSecret = rotated.GetProperty("secret").GetString()!;
            Assert.Equal(HttpStatusCode.Created, (await originator.Client.PostAsync("/api/v1/alerts", Samples.Json(Samples.CyberAlert()), Ct)).StatusCode);
            await WaitForAsync(verifier, oldSecret, 2);

            var withOld = await VerifyAsync(verifier, oldSecret);
            Assert.All(withOld, r => Assert.True(r.GetProperty("verified").GetBoolean(), r.ToString()));
            Assert.Equal(["alert.published", "alert.published"], withOld.Select(r => r.GetProperty("type").GetString()));
            var withNew = await VerifyAsync(verifier, newSecret);
            Assert.False(withNew[0].GetProperty("verified").GetBoolean(), "the first request predates the new secret");
            Assert.True(withNew[1].GetProperty("verified").GetBoolean(), withNew[1].ToString());
        }
        finally
        {
            node.Kill(entireProcessTree: true);
        }
    }

    private static async Task<JsonElement[]> VerifyAsync(HttpClient verifier, string secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/verify");
        request.Headers.Add("X-Webhook-Secret", secret);
        var response = await verifier.SendAsync(request, Ct);
        return [.. (await response.ReadJsonAsync()).EnumerateArray()];
    }

    private static Task WaitForAsync(HttpClient verifier, string secret, int count) =>
        DeliveryTestSettings.EventuallyAsync(async () => (await VerifyAsync(verifier, secret)).Length >= count, $"{count} webhooks at the Node receiver");

    private static string VerifierFolder()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "IntelSharing.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory!.FullName, "tests", "webhook-verifier");
    }
}
