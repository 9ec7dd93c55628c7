using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.IntegrationTests.Security;

/// <summary>
/// The key cache (docs/decisions/0014) on one instance: each test first uses a key, so that its row is cached, and then
/// shows that what should refuse it still does, from the next request on. Time is a fake clock: expiry and the cache's
/// maximum age are walked by advancing it.
/// </summary>
public abstract class ApiKeyCacheTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private FakeTimeProvider Clock => ((IClockedFixture)app).Clock;

    [Fact]
    public async Task A_key_used_and_then_revoked_is_refused_by_the_next_request_on_the_same_instance()
    {
        var operations = await app.CreateOperatorAsync();
        var partner = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);

        var revoked = await operations.Client.DeleteAsync($"/api/v1/agencies/{partner.Id}/keys/{await KeyIdAsync(partner)}", Ct);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_key_of_an_agency_deactivated_after_the_key_was_used_is_refused_by_the_next_request_and_works_again_after_reactivation()
    {
        var operations = await app.CreateOperatorAsync();
        var partner = await app.CreateAgencyAsync("Hungarian Police", "HU");
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await operations.Client.PostAsync($"/api/v1/agencies/{partner.Id}/deactivate", null, Ct)).StatusCode);
        var whileDeactivated = await partner.Client.GetAsync("/api/v1/alerts", Ct);
        Assert.Equal(HttpStatusCode.OK, (await operations.Client.PostAsync($"/api/v1/agencies/{partner.Id}/activate", null, Ct)).StatusCode);
        var afterReactivation = await partner.Client.GetAsync("/api/v1/alerts", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, whileDeactivated.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterReactivation.StatusCode);
    }

    [Fact]
    public async Task A_cached_key_is_refused_as_soon_as_its_expiry_passes_without_any_change_notice()
    {
        var operations = await app.CreateOperatorAsync();
        var partner = await app.CreateAgencyAsync("Frontex Situation Centre", "PL");
        var issued = await operations.Client.PostAsync($"/api/v1/agencies/{partner.Id}/keys", Samples.Json(new JsonObject
        {
            ["name"] = "Short-lived analysis key",
            ["scopes"] = new JsonArray("alerts:read"),
            ["expiresAt"] = Clock.GetUtcNow().AddSeconds(20).ToString("O"),
        }), Ct);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        using var client = app.ClientWithKey((await issued.ReadJsonAsync()).GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/alerts", Ct)).StatusCode);

        // Well inside the cache's maximum age: the cached row is used, and its expiry is checked against the clock.
        Clock.Advance(TimeSpan.FromSeconds(21));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_wrong_secret_with_the_prefix_of_a_cached_key_and_an_unknown_prefix_are_still_refused_with_401()
    {
        var partner = await app.CreateAgencyAsync("Europol EMSC", "NL");
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
        var secretStart = "isk_".Length + ApiKeys.PrefixLength + 1;
        var wrongSecret = partner.Key[..secretStart] + new string(partner.Key[secretStart..].Reverse().ToArray());
        var unknownPrefix = "isk_" + new string('z', ApiKeys.PrefixLength) + partner.Key[(secretStart - 1)..];

        using var withWrongSecret = app.ClientWithKey(wrongSecret);
        using var withUnknownPrefix = app.ClientWithKey(unknownPrefix);
        var wrong = await withWrongSecret.GetAsync("/api/v1/alerts", Ct);
        var unknown = await withUnknownPrefix.GetAsync("/api/v1/alerts", Ct);

        Assert.NotEqual(partner.Key, wrongSecret);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_key_revoked_by_hand_in_the_database_is_refused_at_the_latest_once_the_cache_maximum_age_has_passed()
    {
        var partner = await app.CreateAgencyAsync("Border Police of Bosnia and Herzegovina", "BA");
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
        await using (var connection = await app.Database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE api_keys SET revoked_at = @now WHERE agency_id = @Id", new { now = Clock.GetUtcNow(), partner.Id }, cancellationToken: Ct));
        }

        Clock.Advance(TimeSpan.FromSeconds(new ApiKeyCacheOptions().CacheMaxAgeSeconds));

        Assert.Equal(HttpStatusCode.Unauthorized, (await partner.Client.GetAsync("/api/v1/alerts", Ct)).StatusCode);
    }

    private static async Task<Guid> KeyIdAsync(TestAgency agency)
    {
        var keys = await (await agency.Client.GetAsync("/api/v1/agencies/me/keys", Ct)).ReadJsonAsync();
        return keys.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetGuid();
    }
}

public sealed class ApiKeyCacheTestsOnSqlite(ClockedSqliteApiFixture app) : ApiKeyCacheTests(app), IClassFixture<ClockedSqliteApiFixture>;

public sealed class ApiKeyCacheTestsOnPostgres(ClockedPostgresApiFixture app) : ApiKeyCacheTests(app), IClassFixture<ClockedPostgresApiFixture>;
