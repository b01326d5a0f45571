import { Type, type Static } from '@sinclair/typebox'
import { PreferencesAnswer } from './preferences.js'

const Switch = Type.Union([Type.Literal('on'), Type.Literal('off')])
/** The page's languages: one strings file each (src/routes/preferences-page/strings/). */
export const PAGE_LANGUAGES = ['en', 'zh-Hans'] as const
export type PageLanguage = typeof PAGE_LANGUAGES[number]

const Lang = Type.Union(PAGE_LANGUAGES.map((l) => Type.Literal(l)), { description: 'The page\'s language, for the category names; default `en`.' })

export const CenterQuery = Type.Object({ lang: Type.Optional(Lang) }, { additionalProperties: false })

export const CenterView = Type.Object({
  preferences: PreferencesAnswer,
  categories: Type.Array(Type.Object({
    id: Type.String({ description: 'The category, as campaigns in the registry name it.' }),
    name: Type.String({ description: 'Its display name (the policy\'s `categories`), or the id.' }),
    examples: Type.Array(Type.String(), { description: 'Names of a few of its active marketing campaigns.' }),
    value: Switch
  }), { description: 'Categories of marketing campaigns: each can be switched off.' }),
  alwaysOn: Type.Array(Type.Object({
    category: Type.String(),
    name: Type.String(),
    class: Type.Union([Type.Literal('service'), Type.Literal('critical')]),
    reason: Type.Union([Type.String(), Type.Null()], { description: 'Why it cannot be switched off, from the policy; null: the page says why for its class.' }),
    examples: Type.Array(Type.String())
  }), { description: 'Categories of service and critical messages: always on.' }),
  recent: Type.Object({
    marketingShown: Type.Integer({ description: 'Marketing pop-ups popguard allowed for this user in the last `hours` hours (from the impressions it keeps for the caps).' }),
    hours: Type.Integer()
  })
}, { $id: 'PreferenceCenter', description: 'What the preference centre shows its user: choices, categories, what is always on, recent marketing pop-ups.' })
export type CenterView = Static<typeof CenterView>

export const MarketingBody = Type.Object({
  marketing: Switch
}, { additionalProperties: false, description: '`off`: no marketing pop-ups at all; `on`: they may come again (categories and snooze still apply).' })

export const CategoryParams = Type.Object({
  category: Type.String({ minLength: 1, maxLength: 64, description: 'A category of the preference centre\'s `categories`.' })
})

export const CategoryBody = Type.Object({ value: Switch }, { additionalProperties: false })

export const SnoozeBody = Type.Object({
  days: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(7), Type.Literal(30)], {
    description: 'No marketing pop-ups for this many days from now; 0 ends a running snooze.'
  })
}, { additionalProperties: false })

export const PreferenceHistory = Type.Object({
  changes: Type.Array(Type.Object({
    at: Type.String({ format: 'date-time' }),
    change: Type.String({ description: '`marketing_off`, `marketing_on`, `category_off`, `category_on`, `snooze`, `snooze_ended`.' }),
    category: Type.Optional(Type.String()),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'For a snooze: when it ends.' })),
    by: Type.Union([Type.Literal('user'), Type.Literal('app')], { description: '`user`: the user on the preference centre; `app`: an app through the API.' }),
    via: Type.Union([Type.Literal('preference_center'), Type.Literal('api')]),
    key: Type.Optional(Type.String({ description: 'The API key, for a change through the API.' }))
  }), { description: 'Newest first; at most 100 (older changes are dropped as new ones come).' })
}, { $id: 'PreferenceHistory', description: 'A user\'s preference changes: when, what, and by whom. Erased with the user.' })
