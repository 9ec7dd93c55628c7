using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// What one query parameter accepts. An endpoint that binds its parameters as text (so that the validator can name
/// every mistake) attaches these as endpoint metadata, and <see cref="QueryParametersOperationFilter"/> writes them
/// into the document instead of "any string".
/// </summary>
public sealed record QueryParameterDoc(string Description, OpenApiSchema Schema, JsonNode? Example = null)
{
    public static OpenApiSchema Text() => new() { Type = JsonSchemaType.String };
}

/// <summary>The <see cref="QueryParameterDoc"/> of an endpoint, by parameter name. An endpoint may carry several; the last one to name a parameter wins.</summary>
public sealed class QueryParameterDocs(IReadOnlyDictionary<string, QueryParameterDoc> byName)
{
    /// <summary><c>cursor</c> and <c>limit</c>, as every list accepts them (<see cref="Persistence.KeysetPaging"/>).</summary>
    public static readonly QueryParameterDocs Paging = new(new Dictionary<string, QueryParameterDoc>
    {
        ["cursor"] = new(
            "nextCursor from the previous page, with the same filters. Opaque: do not build or change it; a cursor of another list or other filters is refused (400).",
            new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = Validation.PageRules<Persistence.IPagedQuery>.MaxCursorLength }),
        ["limit"] = new(
            $"Items per page, 1 to {Persistence.KeysetPaging.MaxLimit}.",
            new OpenApiSchema
            {
                Type = JsonSchemaType.Integer,
                Minimum = "1",
                Maximum = Persistence.KeysetPaging.MaxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Default = Persistence.KeysetPaging.DefaultLimit,
            }),
    });

    public IReadOnlyDictionary<string, QueryParameterDoc> ByName { get; } = byName;
}
