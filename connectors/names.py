"""Word lists the generator draws names from; invented, never real people's data."""

from __future__ import annotations

STAGES: tuple[tuple[str, int, float], ...] = (
    # (stage name, capacity, popularity weight). Weights make two standouts (AMD, BMI),
    # a block of near-equals, and the smaller kids' stage.
    ("AMD", 30_000, 1.24),
    ("Honda", 25_000, 1.02),
    ("Bud Light", 25_000, 1.00),
    ("BMI", 20_000, 1.16),
    ("Google+", 15_000, 0.99),
    ("Vista Equity", 12_000, 0.97),
    ("Austin Kiddie Limits presented by H-E-B", 5_000, 0.55),
    ("Miller Lite", 15_000, 0.98),
    ("Tito's Handmade Vodka", 10_000, 0.96),
)

BAND_FIRST: tuple[str, ...] = (
    "Velvet", "Electric", "Lone", "Broken", "Silver", "Midnight", "Neon", "Golden",
    "Wild", "Crimson", "Hollow", "Lucky", "Restless", "Painted", "Howling", "Quiet",
    "Rolling", "Burning", "Paper", "Iron", "Gentle", "Savage", "Little", "Cosmic",
    "Dusty", "Bright", "Lazy", "Royal", "Frozen", "Desert", "Sonic", "Urban",
)
BAND_SECOND: tuple[str, ...] = (
    "Armadillos", "Coyotes", "Horses", "Machines", "Rivers", "Lanterns", "Ghosts",
    "Pilots", "Sisters", "Brothers", "Kings", "Wolves", "Echoes", "Satellites",
    "Radios", "Drifters", "Saints", "Outlaws", "Tigers", "Comets", "Shadows", "Ramblers",
    "Hearts", "Owls", "Foxes", "Strangers", "Mirrors", "Bandits", "Vultures", "Daisies",
)

FIRST_NAMES: tuple[str, ...] = (
    "Ava", "Ben", "Carla", "Diego", "Emma", "Felix", "Grace", "Hugo", "Iris", "Jack",
    "Kara", "Liam", "Maya", "Noah", "Olive", "Pablo", "Quinn", "Rosa", "Sam", "Tara",
    "Uma", "Victor", "Wren", "Xavier", "Yara", "Zane", "Alma", "Bruno", "Chloe", "Dante",
    "Elena", "Finn", "Gia", "Hank", "Ines", "Joel", "Kai", "Lola", "Milo", "Nina",
)
LAST_NAMES: tuple[str, ...] = (
    "Garcia", "Smith", "Nguyen", "Johnson", "Martinez", "Brown", "Lopez", "Davis",
    "Hernandez", "Wilson", "Gonzalez", "Moore", "Perez", "Taylor", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Torres", "Walker", "Flores", "Hall", "Rivera", "Young",
    "Gomez", "King", "Diaz", "Wright", "Reyes", "Scott", "Cruz", "Green", "Morales",
    "Baker", "Ortiz", "Adams", "Gutierrez", "Nelson", "Chavez", "Hill",
)
