using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Json;

namespace IntelSharing.UnitTests.Infrastructure.Json;

public sealed class WireNamesTests
{
    public static TheoryData<Enum, string> Spellings => new()
    {
        { Tlp.AmberStrict, "amber+strict" },
        { Tlp.Clear, "clear" },
        { IndicatorType.VehiclePlate, "vehicle_plate" },
        { IndicatorType.Ipv4, "ipv4" },
        { IndicatorType.Sha256, "sha256" },
        { IndicatorType.CryptoWallet, "crypto_wallet" },
        { HandlingCode.H3, "H3" },
        { InformationAssessment.AccuracyNotInDoubt, "1" },
        { SourceReliability.X, "X" },
        { AlertCategory.CyberIncident, "cyber_incident" },
        { AlertCategory.MigrantSmuggling, "migrant_smuggling" },
        { AgencyKind.BorderGuard, "border_guard" },
        { Sector.FinancialMarketInfrastructure, "financial_market_infrastructure" },
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public void Enum_values_have_the_wire_names_of_the_contract(Enum value, string wireName)
    {
        Assert.Equal(wireName, Of((dynamic)value));
        Assert.True(Parses(value.GetType(), wireName, out var parsed));
        Assert.Equal(value, parsed);
    }

    [Theory]
    [InlineData("AMBER")]
    [InlineData("Amber")]
    [InlineData("amber_strict")]
    [InlineData("AmberStrict")]
    [InlineData("3")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData(" amber")]
    public void Other_spellings_of_a_marking_do_not_parse(string? text) => Assert.False(WireNames.TryParse<Tlp>(text, out _));

    [Fact]
    public void All_lists_every_wire_name_in_declaration_order() =>
        Assert.Equal(["low", "medium", "high", "critical"], WireNames.All<Severity>());

    private static string Of<T>(T value)
        where T : struct, Enum => WireNames.Of(value);

    private static bool Parses(Type type, string text, out Enum? value)
    {
        var method = typeof(WireNames).GetMethod(nameof(WireNames.TryParse))!.MakeGenericMethod(type);
        object?[] arguments = [text, null];
        var parsed = (bool)method.Invoke(null, arguments)!;
        value = (Enum?)arguments[1];
        return parsed;
    }
}
