"""Latvian first names and surnames (male and female forms), drawn for whole columns at once."""
from __future__ import annotations

import numpy as np

MALE_FIRST = """Jānis Andris Mārtiņš Kristaps Edgars Artūrs Roberts Māris Aivars Juris Pēteris Aleksandrs Dmitrijs
Sergejs Andrejs Vladimirs Igors Ivars Raimonds Guntis Dainis Normunds Valdis Aigars Gints Uldis Ilmārs Arnis Oskars
Ričards Rihards Emīls Markuss Gustavs Niklāvs Kārlis Krišjānis Rūdolfs Daniels Matīss Ralfs Roberts Renārs Toms
Dāvis Elvis Rolands Viesturs Viktors Nikolajs Aleksejs Jevgeņijs Deniss Artjoms Maksims Kirils Ņikita Romāns
Edvīns Jurģis Ansis Miķelis Lauris Linards Klāvs Armands Agris Indulis Egils Ainārs Modris Gunārs Imants Zigmārs
Vilnis Atis Edijs Kaspars Ingus Intars Valters Patriks Adrians Alekss Emils Gatis Mairis Reinis Sandis Ēriks Rinalds
Ojārs Pāvels Oļegs Anatolijs Vitālijs Konstantīns Staņislavs Vadims Ainis Didzis Dzintars Gundars Harijs Jāzeps
Kristiāns Leons Mareks Miks Nauris Olafs Reinholds Renārs Rūdis Sebastians Tomass Valentīns Verners Visvaldis""".split()
FEMALE_FIRST = """Anna Marija Līga Ilze Inese Kristīne Laura Anita Ieva Dace Sandra Inga Elīna Linda Santa Evija
Zane Agnese Baiba Sanita Ināra Daiga Dzintra Gunta Ilona Irēna Jeļena Natālija Svetlana Olga Tatjana Irina Ludmila
Gaļina Valentīna Aija Alise Amēlija Annija Dārta Elza Emīlija Estere Gabriela Katrīna Keita Luīze Madara Marta
Megija Melānija Paula Patrīcija Rēzija Sofija Sabīne Viktorija Una Vita Zanda Zelma Agate Aleksandra Anastasija
Darja Diāna Evelīna Jana Ksenija Polina Veronika Alīna Ance Antra Aiga Dagnija Dina Edīte Egija Elita Gita Guna
Ineta Iveta Jolanta Kitija Lelde Lienīte Ligita Maija Mairita Marika Monta Nora Ramona Rasma Regīna Rita Ruta Silvija
Solvita Sarmīte Signe Skaidrīte Solvita Tamāra Terēze Undīne Vija Vineta Zaiga Zinaīda Ērika Ārija Austra Beāte""".split()
# male forms; the female form follows the Latvian endings (-š/-s -> -a, -is -> -e, -a/-e unchanged)
SURNAMES_M = """Bērziņš Kalniņš Ozoliņš Jansons Ozols Liepiņš Krūmiņš Balodis Eglītis Zariņš Pētersons Vītols
Kļaviņš Karklinš Vanags Lapiņš Siliņš Jākobsons Kārkliņš Grīnbergs Āboliņš Zālītis Lācis Briedis Dzenis Sproģis
Kalējs Bite Liepa Roze Kļava Priede Zvirbulis Strazds Vilks Lūsis Gailis Cīrulis Irbe Purmals Andersons Ivanovs
Petrovs Kuzņecovs Smirnovs Vasiļjevs Popovs Sokolovs Mihailovs Novikovs Fjodorovs Morozovs Volkovs Aleksejevs
Lebedevs Semjonovs Jegorovs Pavlovs Kozlovs Stepanovs Nikolajevs Orlovs Andrejevs Makarovs Zaharovs Kovaļovs
Ivanovskis Jankovskis Kazlauskis Šmits Millers Bekers Fišers Vēbers Kronbergs Freimanis Leimanis Neimanis
Zeltiņš Medniņš Bušs Celmiņš Skujiņš Mežulis Rudzītis Auziņš Dreimanis Jurēvičs Graudiņš Upītis Avotiņš Sīlis
Muižnieks Kundziņš Akmentiņš Ķēniņš Kalns Mežs Ezeriņš Birznieks Podnieks Kociņš Dumpis Straume Dūmiņš Blūms
Rozenbergs Vītoliņš Ābele Tomsons Lejnieks Putniņš Vējiņš Pūriņš Lielais Mazais Bārda Zeltiņš Krastiņš Cālītis
Stūrītis Ziediņš Saulītis Grants Kaļķis Sprūds Jaunzems Vecozols Kaupe Melbārdis Sniķeris Vaivods Rācenis Ķiploks
Ķikuts Lūciņš Mucenieks Priedītis Ruņģis Siliņš Strautiņš Tīrums Vanadziņš Zemītis Žagars Circenis Dzērve Gulbis
Bebris Ērglis Jēkabsons Mārtiņsons Pauls Pļaviņš Riekstiņš Sirmais Toms Veide Zīverts Kreicbergs Skrastiņš""".split()


def female_surname(male: str) -> str:
    if male.endswith("is"):
        return male[:-2] + "e"
    if male.endswith(("š", "s")):
        return male[:-1] + "a"
    return male


SURNAMES_F = [female_surname(s) for s in SURNAMES_M]


def _zipf_weights(n: int, a: float = 0.9) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** a
    return w / w.sum()


def draw_names(sex: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """First and last names for a sex column ('M'/'F'); frequent names first in each list (Zipf-like)."""
    sex = np.asarray(sex)
    n = sex.size
    male = sex == "M"
    fm = np.array(MALE_FIRST, dtype=object)
    ff = np.array(FEMALE_FIRST, dtype=object)
    first = np.where(
        male,
        fm[rng.choice(fm.size, size=n, p=_zipf_weights(fm.size, 0.7))],
        ff[rng.choice(ff.size, size=n, p=_zipf_weights(ff.size, 0.7))],
    )
    idx = rng.choice(len(SURNAMES_M), size=n, p=_zipf_weights(len(SURNAMES_M), 0.8))
    last = np.where(male, np.array(SURNAMES_M, dtype=object)[idx], np.array(SURNAMES_F, dtype=object)[idx])
    return first.astype(str), last.astype(str)
