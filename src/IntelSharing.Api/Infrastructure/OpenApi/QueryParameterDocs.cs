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

/// <summary>The <see cref="QueryParameterDoc"/> of an endpoint, by parameter name.</summary>
public sealed class QueryParameterDocs(IReadOnlyDictionary<string, QueryParameterDoc> byName)
{
    public IReadOnlyDictionary<string, QueryParameterDoc> ByName { get; } = byName;
}
