"""Life after signing: changes (perubahan), postponement (penundaan), its end
(pelanjutan), cancellation (pembatalan) and ending (pengakhiran) of an agreement.

PP 43/2014 Pasal 145-146: any change or ending of a cooperation is deliberated with every
party bound by it; Pasal 147: the nine grounds on which a cooperation ends (huruf e: a new
agreement replaces it; huruf i: its term expires); Pasal 143 huruf g: the agreement itself
lays down how it is changed, postponed and cancelled. A perubahan is a new version of the
agreement (an addendum) that goes through review, musyawarah and signing again
(Permendagri 96/2017); the other changes are requests decided in a deliberation.
"""
