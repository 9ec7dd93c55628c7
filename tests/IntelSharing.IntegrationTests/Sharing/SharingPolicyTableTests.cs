using System.Net;
using System.Text.Json.Nodes;
using IntelSharing.IntegrationTests.Infrastructure;

namespace IntelSharing.IntegrationTests.Sharing;

/// <summary>
/// PRODUCT.md "Who may see what", cell by cell, through HTTP: every valid TLP × audience shape, read by every
/// kind of caller, on GET one, on the list and on a full-text search (q=) that every one of the alerts matches. Invalid shapes (clear/green with an audience, amber+strict/red
/// without one) are refused at submission and tested in <see cref="GroupAudienceTests"/>.
/// </summary>
public abstract class SharingPolicyTableTests(ApiFixture app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private enum Shape
    {
        None,
        NamedAgency,
        ViaGroup,
    }

    private enum Role
    {
        Originator,
        Named,
        GroupMember,
        Outsider,
        Deactivated,
    }

    private static readonly (string Tlp, Shape Shape)[] Alerts =
    [
        ("clear", Shape.None),
        ("green", Shape.None),
        ("amber", Shape.None),
        ("amber", Shape.NamedAgency),
        ("amber", Shape.ViaGroup),
        ("amber+strict", Shape.NamedAgency),
        ("amber+strict", Shape.ViaGroup),
        ("red", Shape.NamedAgency),
        ("red", Shape.ViaGroup),
    ];

    /// <summary>The expected answer to GET, written out from PRODUCT.md rather than computed by the code under test.</summary>
    private static HttpStatusCode Expected(Role role, string tlp, Shape shape) => role switch
    {
        Role.Deactivated => HttpStatusCode.Unauthorized,
        Role.Originator => HttpStatusCode.OK,
        _ when tlp is "clear" or "green" => HttpStatusCode.OK,
        _ when tlp == "amber" && shape == Shape.None => HttpStatusCode.OK,
        Role.Named when shape == Shape.NamedAgency => HttpStatusCode.OK,
        Role.GroupMember when shape == Shape.ViaGroup => HttpStatusCode.OK,
        _ => HttpStatusCode.NotFound,
    };

    [Fact]
    public async Task Each_tlp_and_audience_shape_is_visible_to_exactly_the_agencies_the_brief_names_on_read_on_list_and_on_search()
    {
        var operations = await app.CreateOperatorAsync();
        var originator = await app.CreateAgencyAsync("MUP RS Border Police Directorate", "RS");
        var named = await app.CreateAgencyAsync("Hungarian National Police", "HU");
        var member = await app.CreateAgencyAsync("Croatian Border Police", "HR");
        var outsider = await app.CreateAgencyAsync("Slovenian Police", "SI");
        var deactivated = await app.CreateAgencyAsync("North Macedonian Border Police", "MK");

        // The deactivated agency is named and a group member when the alerts are published, so only its
        // deactivation (not the audience) keeps it out.
        var group = await operations.Client.PostAsync("/api/v1/sharing-groups", Samples.Json(new JsonObject
        {
            ["name"] = $"Western Balkans route {Guid.NewGuid():N}",
            ["members"] = new JsonArray(member.Id.ToString(), deactivated.Id.ToString()),
        }), Ct);
        Assert.Equal(HttpStatusCode.Created, group.StatusCode);
        var groupId = (await group.ReadJsonAsync()).GetProperty("id").GetGuid();

        var published = new List<(Guid Id, string Tlp, Shape Shape)>();
        foreach (var (tlp, shape) in Alerts)
        {
            var alert = shape switch
            {
                Shape.NamedAgency => TestData.SmugglingAlert(tlp, agencies: [named.Id, deactivated.Id]),
                Shape.ViaGroup => TestData.SmugglingAlert(tlp, groups: [groupId]),
                _ => TestData.SmugglingAlert(tlp),
            };
            published.Add((await originator.PublishAsync(alert), tlp, shape));
        }

        Assert.Equal(HttpStatusCode.OK, (await operations.Client.PostAsync($"/api/v1/agencies/{deactivated.Id}/deactivate", null, Ct)).StatusCode);

        var callers = new Dictionary<Role, TestAgency>
        {
            [Role.Originator] = originator,
            [Role.Named] = named,
            [Role.GroupMember] = member,
            [Role.Outsider] = outsider,
            [Role.Deactivated] = deactivated,
        };
        var mismatches = new List<string>();
        foreach (var (role, caller) in callers)
        {
            // Every alert of the table names Preševo on its route; the search asks for it in Cyrillic.
            var listings = new Dictionary<string, HashSet<Guid>>();
            foreach (var (listing, url) in new[] { ("list", "/api/v1/alerts?limit=200"), ("search", "/api/v1/alerts?limit=200&q=%D0%9F%D1%80%D0%B5%D1%88%D0%B5%D0%B2%D0%BE") })
            {
                var list = await caller.Client.GetAsync(url, Ct);
                if (role == Role.Deactivated)
                {
                    if (list.StatusCode != HttpStatusCode.Unauthorized)
                    {
                        mismatches.Add($"{role} {listing}: expected 401, got {(int)list.StatusCode}");
                    }
                }
                else
                {
                    Assert.Equal(HttpStatusCode.OK, list.StatusCode);
                    listings[listing] = (await list.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToHashSet();
                }
            }

            foreach (var (id, tlp, shape) in published)
            {
                var expected = Expected(role, tlp, shape);
                var actual = (await caller.Client.GetAsync($"/api/v1/alerts/{id}", Ct)).StatusCode;
                if (actual != expected)
                {
                    mismatches.Add($"{role} GET {tlp}/{shape}: expected {(int)expected}, got {(int)actual}");
                }

                foreach (var (listing, listed) in listings)
                {
                    if (listed.Contains(id) != (expected == HttpStatusCode.OK))
                    {
                        mismatches.Add($"{role} {listing} {tlp}/{shape}: expected {(expected == HttpStatusCode.OK ? "listed" : "not listed")}");
                    }
                }
            }
        }

        Assert.Empty(mismatches);
    }
}

public sealed class SharingPolicyTableTestsOnSqlite(SqliteApiFixture app) : SharingPolicyTableTests(app), IClassFixture<SqliteApiFixture>;

public sealed class SharingPolicyTableTestsOnPostgres(PostgresApiFixture app) : SharingPolicyTableTests(app), IClassFixture<PostgresApiFixture>;
