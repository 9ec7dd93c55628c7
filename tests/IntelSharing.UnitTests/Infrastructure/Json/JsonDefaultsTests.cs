using System.Text.Json;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Json;

namespace IntelSharing.UnitTests.Infrastructure.Json;

public sealed class JsonDefaultsTests
{
    private static AlertInput? Read(string json) => JsonSerializer.Deserialize<AlertInput>(json, JsonDefaults.Options);

    [Fact]
    public void Contract_spellings_deserialise()
    {
        var alert = Read("""{ "category": "migrant_smuggling", "tlp": "amber+strict", "evaluation": { "source": "B", "information": "2" }, "handling": { "code": "H3" } }""")!;

        Assert.Equal(AlertCategory.MigrantSmuggling, alert.Category);
        Assert.Equal(Tlp.AmberStrict, alert.Tlp);
        Assert.Equal(InformationAssessment.KnownPersonallyToSource, alert.Evaluation!.Information);
        Assert.Equal(HandlingCode.H3, alert.Handling!.Code);
    }

    [Theory]
    [InlineData("""{ "titel": "Group at Horgoš" }""", "$")]
    [InlineData("""{ "handling": { "code": "H1", "condition": "x" } }""", "$.handling")]
    public void An_unknown_property_is_refused(string json, string path)
    {
        var exception = Assert.Throws<JsonException>(() => Read(json));
        Assert.StartsWith(path, exception.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void A_duplicate_property_is_refused() =>
        Assert.Throws<JsonException>(() => Read("""{ "title": "First", "title": "Second" }"""));

    [Theory]
    [InlineData("""{ "severity": 3 }""", "$.severity")]
    [InlineData("""{ "tlp": 2 }""", "$.tlp")]
    [InlineData("""{ "evaluation": { "information": 1 } }""", "$.evaluation.information")]
    public void An_integer_for_an_enum_is_refused(string json, string path)
    {
        var refused = Assert.Throws<NotAnAllowedValueException>(() => Read(json));
        Assert.Equal(path, refused.Path);
        Assert.Contains("one of", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "severity": "urgent" }""", "$.severity")]
    [InlineData("""{ "tlp": "AMBER" }""", "$.tlp")]
    [InlineData("""{ "tlp": "Amber" }""", "$.tlp")]
    [InlineData("""{ "category": "MigrantSmuggling" }""", "$.category")]
    [InlineData("""{ "severity": "3" }""", "$.severity")]
    public void Enum_values_are_matched_exactly_as_the_contract_spells_them(string json, string path)
    {
        var refused = Assert.Throws<NotAnAllowedValueException>(() => Read(json));
        Assert.Equal(path, refused.Path);
        Assert.Contains("one of", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "title": 42 }""", "$.title")]
    [InlineData("""{ "smuggling": { "estimatedPeople": "40" } }""", "$.smuggling.estimatedPeople")]
    [InlineData("""{ "countries": "RS" }""", "$.countries")]
    public void A_value_of_the_wrong_type_is_refused_with_its_path(string json, string path) =>
        Assert.Equal(path, Assert.Throws<JsonException>(() => Read(json)).Path);

    [Fact]
    public void Documents_nested_deeper_than_32_levels_are_refused()
    {
        var deep = new string('[', 40) + new string(']', 40);

        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<JsonElement>(deep, JsonDefaults.Options));
    }

    [Fact]
    public void Dictionary_keys_are_written_as_they_are_because_they_are_data()
    {
        var errors = new Dictionary<string, string[]> { ["Idempotency-Key"] = ["x"], ["indicators[0].value"] = ["y"] };

        Assert.Equal("""{"Idempotency-Key":["x"],"indicators[0].value":["y"]}""", JsonSerializer.Serialize(errors, JsonDefaults.Options));
    }

    [Fact]
    public void Output_is_camel_case_without_nulls_and_keeps_cyrillic_and_plus_readable()
    {
        var json = JsonSerializer.Serialize(new Handling { Code = HandlingCode.H1, Conditions = null }, JsonDefaults.Options);
        var text = JsonSerializer.Serialize(new RoutePoint { Place = "Прешево + Preševo", Country = "RS" }, JsonDefaults.Options);

        Assert.Equal("""{"code":"H1"}""", json);
        Assert.Equal("""{"place":"Прешево + Preševo","country":"RS"}""", text);
    }
}
