using System.ComponentModel;
using System.Globalization;
using System.Reflection;

namespace Bctrl.Relay.Options;

/// <summary>
/// Checks the <c>Relay</c> section against <see cref="RelayOptions"/> before it is bound (docs/operations.md): the
/// configuration binder skips a key no property matches, so a typo would silently leave a default in place, and a value
/// it cannot convert ends in an exception that names the type but not what the key wants. Keys match properties
/// case-insensitively, as the binder matches them; lists take indexes (<c>SigningKeys:0:Id</c>).
/// </summary>
internal static class SettingsSchema
{
    /// <summary>Throws <see cref="SettingsException"/> for the first key under <paramref name="section"/> that no property takes or whose value does not convert.</summary>
    public static void Check(IConfigurationSection section) => CheckSection(section, typeof(RelayOptions));

    private static void CheckSection(IConfigurationSection section, Type type)
    {
        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || property.SetMethod is not { IsPublic: true })
            {
                throw new SettingsException($"{child.Path} is not a setting of the relay (README, \"Configuration\", lists them).");
            }

            CheckValue(child, property.PropertyType);
        }
    }

    private static void CheckValue(IConfigurationSection section, Type type)
    {
        var scalar = Nullable.GetUnderlyingType(type) ?? type;
        if (scalar.IsGenericType && scalar.GetGenericTypeDefinition() == typeof(List<>))
        {
            var element = scalar.GetGenericArguments()[0];
            foreach (var item in section.GetChildren())
            {
                if (!int.TryParse(item.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    throw new SettingsException($"{item.Path} is not a setting of the relay: {section.Path} is a list, numbered from 0.");
                }

                CheckValue(item, element);
            }

            return;
        }

        if (scalar != typeof(string) && !scalar.IsPrimitive && !scalar.IsEnum && scalar != typeof(TimeSpan))
        {
            CheckSection(section, scalar);
            return;
        }

        if (section.GetChildren().FirstOrDefault() is { } nested)
        {
            throw new SettingsException($"{nested.Path} is not a setting of the relay: {section.Path} is a single value.");
        }

        if (string.IsNullOrEmpty(section.Value) || scalar == typeof(string))
        {
            return;
        }

        try
        {
            // The conversion the configuration binder makes. The value is never quoted: a secret pasted into the
            // wrong key must not reach the console.
            TypeDescriptor.GetConverter(scalar).ConvertFromInvariantString(section.Value);
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException or NotSupportedException or OverflowException
            || exception.InnerException is FormatException or OverflowException)
        {
            throw new SettingsException($"{section.Path} must be {Describe(scalar)}.");
        }
    }

    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(TimeSpan) => "a time span such as 00:00:10 (hh:mm:ss)",
        _ when type == typeof(double) || type == typeof(float) => "a number",
        _ when type.IsEnum => "one of " + string.Join(", ", Enum.GetNames(type)),
        _ => "a whole number",
    };
}
