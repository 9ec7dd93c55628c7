using System.Text.Json;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Taxii;

namespace IntelSharing.UnitTests.Features.Stix;

/// <summary>How an envelope posted to the TAXII write collection is read (ADR 52): patterns, markings, outcomes.</summary>
public sealed class TaxiiEnvelopeReaderTests
{
    private const string Green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";

    [Theory]
    [InlineData("[ipv4-addr:value = '203.0.113.7']", "ipv4-addr:value=203.0.113.7")]
    [InlineData("  [ ipv4-addr:value='203.0.113.7' ]  ", "ipv4-addr:value=203.0.113.7")]
    [InlineData("[domain-name:value = 'a.example' OR url:value = 'https://a.example/']", "domain-name:value=a.example|url:value=https://a.example/")]
    [InlineData("[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example']", "domain-name:value=a.example|domain-name:value=b.example")]
    [InlineData("[file:hashes.'SHA-256' = 'ab']", "file:hashes.SHA-256=ab")]
    [InlineData("[file:hashes.MD5 = 'ab']", "file:hashes.MD5=ab")]
    [InlineData(@"[url:value = 'https://x.example/a\'b\\c']", @"url:value=https://x.example/a'b\c")]
    [InlineData("[url:value = 'https://x.example/]OR[']", "url:value=https://x.example/]OR[")]
    public void A_pattern_of_equality_comparisons_joined_by_or_gives_each_value(string pattern, string expected)
    {
        var comparisons = TaxiiEnvelopeReader.ParsePattern(pattern);

        Assert.NotNull(comparisons);
        Assert.Equal(expected, string.Join('|', comparisons.Select(c => $"{c.Path}={c.Value}")));
    }

    [Theory]
    [InlineData("[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'a.example']")]
    [InlineData("[ipv4-addr:value != '1.2.3.4']")]
    [InlineData("[domain-name:value MATCHES '^a']")]
    [InlineData("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS")]
    [InlineData("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5']")]
    [InlineData("[ipv4-addr:value = '1.2.3.4'")]
    [InlineData("[ipv4-addr:value = '1.2.3.4]")]
    [InlineData("ipv4-addr:value = '1.2.3.4'")]
    [InlineData("[[ipv4-addr:value = '1.2.3.4']]")]
    [InlineData("[ipv4-addr:value = '1.2.3.4' OR]")]
    [InlineData("[]")]
    [InlineData("")]
    [InlineData("[ipv4-addr:value IN ('1.2.3.4', '1.2.3.5')]")]
    public void Anything_else_is_not_read(string pattern)
    {
        Assert.Null(TaxiiEnvelopeReader.ParsePattern(pattern));
    }

    [Fact]
    public void The_alert_takes_the_strictest_marking_of_what_it_takes_and_refuses_objects_without_one()
    {
        var reading = Read(
            Indicator("[ipv4-addr:value = '203.0.113.7']", Green),
            Indicator("[ipv4-addr:value = '203.0.113.8']", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"),
            Indicator("[ipv4-addr:value = '203.0.113.9']", null),
            Indicator("[ipv4-addr:value = '203.0.113.10']", "marking-definition--00000000-0000-4000-8000-000000000000"));

        Assert.Equal(Tlp.Amber, reading.Alert!.Tlp);
        Assert.Equal(["203.0.113.7", "203.0.113.8"], reading.Alert.Indicators!.Select(i => i.Value));
        Assert.Equal(2, reading.Failures.Count);
        Assert.All(reading.Failures, f => Assert.Contains("No TLP marking", f.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_report_that_titles_the_alert_shares_its_words_no_wider_than_its_own_marking()
    {
        const string Amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
        var titled = Read(Report("Operation Night Harbour", Amber), Indicator("[ipv4-addr:value = '203.0.113.7']", Green));
        var unmarked = Read(Report("Operation Night Harbour", null), Indicator("[ipv4-addr:value = '203.0.113.7']", Green));
        var withIncident = Read(
            Report("Operation Night Harbour", Amber),
            $$"""{"type": "incident", "spec_version": "2.1", "id": "incident--6ba7b810-9dad-41d1-80b4-00c04fd430c8", "name": "Phishing wave", "object_marking_refs": ["{{Green}}"]}""",
            Indicator("[ipv4-addr:value = '203.0.113.7']", Green));

        Assert.Equal(("Operation Night Harbour", Tlp.Amber), (titled.Alert!.Title, titled.Alert.Tlp));
        Assert.Equal(("1 indicator shared over TAXII", Tlp.Green), (unmarked.Alert!.Title, unmarked.Alert.Tlp));
        Assert.Contains("No TLP marking", Assert.Single(unmarked.Failures).Message, StringComparison.Ordinal);
        Assert.Equal(("Phishing wave", Tlp.Green), (withIncident.Alert!.Title, withIncident.Alert.Tlp));
    }

    [Fact]
    public void An_object_with_one_bad_value_is_refused_whole_and_its_reason_names_the_value()
    {
        var reading = Read(
            Indicator("[ipv4-addr:value = '203.0.113.7' OR ipv4-addr:value = '999.1.1.1']", Green),
            Indicator("[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']", Green));

        Assert.Null(reading.Alert);
        Assert.Contains("999.1.1.1", reading.Failures[0].Message, StringComparison.Ordinal);
        Assert.Contains("file:hashes.SHA-1 has no IntelSharing indicator type", reading.Failures[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_location_the_alert_concerns_the_originators_country_and_without_an_incident_it_is_titled_by_its_indicators()
    {
        var reading = Read(Indicator("[domain-name:value = 'a.example' OR domain-name:value = 'b.example']", Green));

        Assert.Equal(["RS"], reading.Alert!.Countries);
        Assert.Equal("2 indicators shared over TAXII", reading.Alert.Title);
        Assert.Equal("Shared over TAXII 2.1 as STIX indicators: indicator one.", reading.Alert.Summary);
        Assert.Equal((HandlingCode.H2, SourceReliability.X, InformationAssessment.NotCorroborated, Basis.Assessment, Severity.Medium, CyberIncidentType.Other, Sector.Other),
            (reading.Alert.Handling!.Code, reading.Alert.Evaluation!.Source, reading.Alert.Evaluation.Information, reading.Alert.Basis, reading.Alert.Severity, reading.Alert.Cyber!.IncidentType, reading.Alert.Cyber.Sector));
    }

    [Fact]
    public void Objects_that_are_not_stix_or_of_another_version_are_refused_and_context_is_read_without_being_stored()
    {
        var reading = Read(
            """{"type": "indicator"}""",
            """{"type": "indicator", "id": "malware--6ba7b810-9dad-41d1-80b4-00c04fd430c8"}""",
            """{"type": "indicator", "spec_version": "2.0", "id": "indicator--6ba7b810-9dad-41d1-80b4-00c04fd430c8"}""",
            "42",
            $$"""{"type": "identity", "spec_version": "2.1", "id": "identity--6ba7b810-9dad-41d1-80b4-00c04fd430c8", "created": "2026-01-01T00:00:00Z", "modified": "2026-01-02T00:00:00Z"}""",
            $$"""{"type": "marking-definition", "spec_version": "2.1", "id": "{{Green}}", "created": "2022-10-01T00:00:00Z"}""");

        Assert.Null(reading.Alert);
        Assert.Equal(4, reading.Failures.Count);
        Assert.Equal([("identity--6ba7b810-9dad-41d1-80b4-00c04fd430c8", "2026-01-02T00:00:00Z"), (Green, "2022-10-01T00:00:00Z")], reading.Successes.Select(s => (s.Id, s.Version)));
    }

    private static TaxiiEnvelopeReader.Reading Read(params string[] objects) =>
        TaxiiEnvelopeReader.Read(JsonDocument.Parse($"[{string.Join(',', objects)}]").RootElement, "RS");

    private static string Report(string name, string? marking) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["type"] = "report",
        ["spec_version"] = "2.1",
        ["id"] = $"report--{Guid.NewGuid()}",
        ["name"] = name,
        ["description"] = "What the operation found.",
        ["object_marking_refs"] = marking is null ? Array.Empty<string>() : new[] { marking },
    });

    private static string Indicator(string pattern, string? marking) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["type"] = "indicator",
        ["spec_version"] = "2.1",
        ["id"] = $"indicator--{Guid.NewGuid()}",
        ["created"] = "2026-12-01T10:00:00.000Z",
        ["modified"] = "2026-12-01T10:00:00.000Z",
        ["name"] = "indicator one",
        ["pattern"] = pattern,
        ["pattern_type"] = "stix",
        ["valid_from"] = "2026-12-01T10:00:00Z",
        ["object_marking_refs"] = marking is null ? Array.Empty<string>() : new[] { marking },
    });
}
