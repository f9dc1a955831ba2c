using MudBlazor;

namespace Cairn.Server.Ui;

/// <summary>The UI's colours and type: a calm slate/teal palette with enough contrast in both themes.</summary>
internal static class UiTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#0f766e",
            Secondary = "#475569",
            AppbarBackground = "#0f172a",
            AppbarText = "#f8fafc",
            Background = "#f8fafc",
            Surface = "#ffffff",
            TableLines = "#e2e8f0",
            TextPrimary = "#0f172a",
            TextSecondary = "#475569",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#2dd4bf",

            // Dark text on the bright teal: white on it (MudBlazor's default) is below 2:1 contrast.
            PrimaryContrastText = "#042f2e",
            Secondary = "#94a3b8",
            AppbarBackground = "#020617",
            AppbarText = "#e2e8f0",
            Background = "#0b1120",
            Surface = "#111827",
            TableLines = "#1f2937",
            TextPrimary = "#e5e7eb",
            TextSecondary = "#9ca3af",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["Inter", "Segoe UI", "Roboto", "DejaVu Sans", "Helvetica", "Arial", "sans-serif"], FontSize = "0.875rem" },
        },
    };
}
