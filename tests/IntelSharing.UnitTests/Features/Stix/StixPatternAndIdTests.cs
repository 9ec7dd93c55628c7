using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Features.Stix;

namespace IntelSharing.UnitTests.Features.Stix;

public sealed class StixPatternAndIdTests
{
    [Theory]
    [InlineData(@"a'b", @"'a\'b'")]
    [InlineData(@"C:\temp\x.exe", @"'C:\\temp\\x.exe'")]
    [InlineData(@"\' OR 1=1 --", @"'\\\' OR 1=1 --'")]
    [InlineData(@"'", @"'\''")]
    [InlineData(@"пример.срб", @"'пример.срб'")]
    public void A_hostile_value_stays_inside_its_pattern_literal(string value, string expected)
    {
        Assert.Equal(expected, StixPattern.Literal(value));
    }

    [Fact]
    public void A_url_with_quotes_and_backslashes_becomes_one_comparison()
    {
        Assert.Equal(@"[url:value = 'https://x.example/a\'b\\c']", StixPattern.For(IndicatorType.Url, @"https://x.example/a'b\c"));
    }

    [Theory]
    [InlineData(IndicatorType.Phone)]
    [InlineData(IndicatorType.VehiclePlate)]
    [InlineData(IndicatorType.VesselImo)]
    [InlineData(IndicatorType.TravelDocument)]
    [InlineData(IndicatorType.CryptoWallet)]
    [InlineData(IndicatorType.Iban)]
    public void Types_without_a_STIX_observable_have_no_pattern(IndicatorType type)
    {
        Assert.Null(StixPattern.For(type, "x"));
    }

    [Fact]
    public void Version_5_uuids_match_the_RFC_9562_example()
    {
        // RFC 9562 Appendix A.4: the DNS name space and "www.example.com".
        Assert.Equal(new Guid("2ed6657d-e927-568b-95e1-2665a8aea6a2"), StixIds.Create(new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "www.example.com"));
    }

    [Fact]
    public void An_observable_id_is_the_uuid5_of_its_canonical_json_in_the_STIX_name_space()
    {
        // Computed independently with Python's uuid.uuid5 over {"identifier_type":"phone","value":"+381641234567"}: '+' is not escaped.
        var alert = new AlertView
        {
            Id = Guid.NewGuid(), Version = 1, Status = AlertStatus.Active, Category = AlertCategory.MigrantSmuggling, Title = "t", Summary = "s",
            Severity = Severity.High, Tlp = Tlp.Amber, Handling = new Handling { Code = HandlingCode.H1 },
            Evaluation = new Evaluation { Source = SourceReliability.B, Information = InformationAssessment.KnownPersonallyToSource },
            Basis = Basis.Assessment, Countries = ["RS"], Originator = new AgencyRef { Id = Guid.NewGuid(), Name = "Border Police", Country = "RS" },
            Audience = [], Indicators = [new IndicatorView { Type = IndicatorType.Phone, Value = "+381641234567" }], Persons = [],
            CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch,
        };

        var objects = AlertStixObjects.FromAlert(alert, revokedAt: null, includePersons: false);

        Assert.Contains(objects, o => (string?)o["id"] == "intelsharing-identifier--44932dec-04bb-5bd6-b1e1-516fb3ca57c3");
    }

    [Fact]
    public void The_published_extension_ids_are_the_ones_the_committed_schemas_and_docs_name()
    {
        Assert.Equal("extension-definition--f556914a-7abe-5d7b-ae30-cd8bb1488b04", StixDefinitions.IdentifierExtensionId);
        Assert.Equal("extension-definition--4bdc1dc1-1497-5c0f-b23b-121919e191b1", StixDefinitions.HandlingExtensionId);
    }
}
