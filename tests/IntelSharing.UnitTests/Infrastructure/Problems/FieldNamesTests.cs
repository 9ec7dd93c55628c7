using IntelSharing.Api.Infrastructure.Problems;

namespace IntelSharing.UnitTests.Infrastructure.Problems;

public sealed class FieldNamesTests
{
    [Theory]
    [InlineData("Title", "title")]
    [InlineData("Indicators[3].Value", "indicators[3].value")]
    [InlineData("Smuggling.CrossingPoints[0].Countries[1]", "smuggling.crossingPoints[0].countries[1]")]
    [InlineData("Handling.Conditions", "handling.conditions")]
    [InlineData("audience.agencies", "audience.agencies")]
    [InlineData("ReviewAt", "reviewAt")]
    [InlineData("", "")]
    public void Property_paths_become_the_json_field_names_clients_sent(string propertyPath, string field) =>
        Assert.Equal(field, FieldNames.ToJsonPath(propertyPath));

    [Theory]
    [InlineData("Idempotency-Key")]
    [InlineData("If-Match")]
    public void Header_names_are_kept_as_clients_spell_them(string header) =>
        Assert.Equal(header, FieldNames.ToJsonPath(header));

    [Theory]
    [InlineData("$.indicators[3].value", "indicators[3].value")]
    [InlineData("$.smuggling.estimatedPeople", "smuggling.estimatedPeople")]
    [InlineData("$['odd key']", "['odd key']")]
    [InlineData("$", "")]
    [InlineData(null, "")]
    [InlineData("", "")]
    public void Json_paths_from_the_serializer_lose_their_root_marker(string? path, string field) =>
        Assert.Equal(field, FieldNames.FromJsonPath(path));
}
