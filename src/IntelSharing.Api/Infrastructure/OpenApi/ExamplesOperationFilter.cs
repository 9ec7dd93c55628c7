using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Attaches the named request and response examples of <see cref="ContractExamples"/> to the operations, by
/// operation id (the endpoint's <c>WithName</c>). Both alert categories are shown wherever alerts travel.
/// </summary>
public sealed class ExamplesOperationFilter : IOperationFilter
{
    private const string Json = "application/json";
    private const string Problem = "application/problem+json";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        switch (operation.OperationId)
        {
            case "SubmitAlert":
                Request(operation,
                    ("migrantSmuggling", "A smuggling network on the Western Balkans route", ContractExamples.SmugglingAlertInput()),
                    ("cyberIncident", "A phishing campaign against Serbian eGovernment users", ContractExamples.CyberAlertInput()));
                Response(operation, "201", Json,
                    ("migrantSmuggling", "Published: indicators normalised, the originator taken from the API key", ContractExamples.SmugglingAlertView()),
                    ("cyberIncident", "Published: the domain lower-cased, the submitted spelling kept", ContractExamples.CyberAlertView()));
                Response(operation, "400", Problem,
                    ("invalidAlert", "Every offending field is named", ContractExamples.ValidationProblem()),
                    ("malformedBody", "A value that is not one of the allowed ones", ContractExamples.MalformedBodyProblem()));
                Response(operation, "401", Problem, ("revokedKey", "The key no longer works", ContractExamples.UnauthenticatedProblem()));
                Response(operation, "403", Problem, ("missingScope", "A read-only key", ContractExamples.ForbiddenProblem()));
                Response(operation, "409", Problem, ("idempotencyKeyReused", "The same Idempotency-Key with a different body", ContractExamples.IdempotencyKeyReusedProblem()));
                break;

            case "ReadStatistics":
                // Long form, one count per row; a count under the minimum cell count is written "<5" (docs/statistics.md).
                Response(operation, "200", "text/csv", ("published", "A month by category and country: HU under 5, HR suppressed with it so the total cannot give HU away",
                    JsonValue.Create(
                        "section,period,category,country,agency,measure,value\r\n" +
                        "alerts,2026-10,migrant_smuggling,RS,,published,42\r\n" +
                        "alerts,2026-10,migrant_smuggling,HU,,published,<5\r\n" +
                        "alerts,2026-10,migrant_smuggling,HR,,published,<5\r\n" +
                        "alerts,2026-10,migrant_smuggling,,,published_total,51\r\n")));
                break;
            case "GetAlert":
                Response(operation, "200", Json,
                    ("migrantSmuggling", "An amber alert from the Border Police", ContractExamples.SmugglingAlertView()),
                    ("cyberIncident", "A green alert from the national CERT", ContractExamples.CyberAlertView()));
                Response(operation, "404", Problem, ("notVisible", "Absent, or not shared with you: the answer is the same", ContractExamples.AlertNotFoundProblem()));
                break;

            case "ListAlerts":
                Response(operation, "200", Json,
                    ("firstPage", "Both categories, oldest change first; follow nextCursor for more", ContractExamples.AlertPage()),
                    ("caughtUp", "Nothing newer: nextCursor is null", ContractExamples.LastAlertPage()));
                Response(operation, "400", Problem, ("badFilters", "Unknown severity and a limit out of range", ContractExamples.ListFilterProblem()));
                break;

            case "ExportAlertStix":
                Response(operation, "200", "application/stix+json;version=2.1",
                    ("smugglingReport", "An amber smuggling alert as a STIX 2.1 bundle (shortened to its marking, identity and report)", ContractExamples.StixBundle()));
                break;

            case "RegisterAgency":
                Request(operation,
                    ("borderPolice", "A national border police", ContractExamples.BorderPoliceInput()),
                    ("europol", "An EU agency registers with the country of its seat", ContractExamples.EuropolInput()));
                Response(operation, "201", Json, ("borderPolice", "Registered and active", ContractExamples.BorderPoliceView()));
                Response(operation, "409", Problem, ("nameTaken", "Agency names are unique", ContractExamples.AgencyNameTakenProblem()));
                break;

            case "ListAgencies":
                Response(operation, "200", Json, ("directory", "Partner agencies, oldest registration first; nextCursor is null on the last page", ContractExamples.AgencyList()));
                break;

            case "GetAgency":
                Response(operation, "200", Json, ("borderPolice", "One partner agency", ContractExamples.BorderPoliceView()));
                break;

            case "IssueApiKey":
                Request(operation, ("caseSystem", "A key for the Border Police case system", ContractExamples.ApiKeyInput()));
                Response(operation, "201", Json, ("issued", "The key is in this response and nowhere else", ContractExamples.IssuedApiKey()));
                break;

            case "ListApiKeys":
                Response(operation, "200", Json, ("keys", "One key in use, one revoked", ContractExamples.ApiKeyList()));
                break;
        }
    }

    private static void Request(OpenApiOperation operation, params (string Name, string Summary, JsonNode Value)[] examples)
    {
        if (operation.RequestBody?.Content?.TryGetValue(Json, out var media) == true)
        {
            Attach(media, examples);
        }
    }

    private static void Response(OpenApiOperation operation, string status, string mediaType, params (string Name, string Summary, JsonNode Value)[] examples)
    {
        if (operation.Responses?.TryGetValue(status, out var response) == true && response.Content?.TryGetValue(mediaType, out var media) == true)
        {
            Attach(media, examples);
        }
    }

    private static void Attach(OpenApiMediaType media, (string Name, string Summary, JsonNode Value)[] examples)
    {
        media.Examples ??= new Dictionary<string, IOpenApiExample>(StringComparer.Ordinal);
        foreach (var (name, summary, value) in examples)
        {
            media.Examples[name] = new OpenApiExample { Summary = summary, Value = value };
        }
    }
}
