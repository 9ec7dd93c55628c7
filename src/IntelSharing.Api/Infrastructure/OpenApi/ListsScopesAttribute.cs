namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// Marks a contract type whose <c>scopes</c> property holds API key scopes, so the document lists the known set
/// (<see cref="ContractSchemaFilter"/>) without Infrastructure knowing which feature owns the type.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ListsScopesAttribute : Attribute;
